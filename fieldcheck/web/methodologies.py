"""Methodology pages (issue 16): every methodology and version, uploading a draft, a version's
content, publishing it with an effective date, trying it in a what-if run; and a run's zone diff
and rerun button.

Thin shells over ``methodologies.services`` and ``zoning.services`` (the calls behind
``/api/v1/methodologies`` and ``/api/v1/zoning-runs``); a refused file shows the loader's
message (``methodologies.services.methodology_problem``) in the reader's language.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from fieldcheck.auth.services import user_names
from fieldcheck.errors import ApiError
from fieldcheck.i18n import _, localize, localize_details
from fieldcheck.methodologies import services
from fieldcheck.web import formatting
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp
from fieldcheck.zoning import subjects
from fieldcheck.zoning.diff import zone_diff
from fieldcheck.zoning.services import create_run, current_period, rerun
from fieldcheck.zoning.visibility import get_visible_run


def _problems(exc: ApiError) -> dict[str, list[str]]:
    """A refusal's messages by form field ("" for the page), in the reader's language."""
    fields = localize_details(exc.details or {}).get("fields") or {}
    return fields or {"": [localize(exc.message)]}


def _list_page(errors: dict[str, list[str]] | None = None, status: int = 200):
    views = services.versions()
    names = user_names(
        {v.row.uploaded_by for v in views if v.row} | {v.row.published_by for v in views if v.row}
    )
    return render_template(
        "web/methodologies/list.html", views=views, names=names, errors=errors or {}
    ), status


@bp.get("/methodologies")
@page_role("admin")
def methodologies():
    """Every methodology and version: status, effective dates, short hash, who and when."""
    return _list_page()


@bp.post("/methodologies")
@page_role("admin")
def upload_methodology_page():
    """Upload a methodology file as a draft; a refused file is shown with the problem."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page({"file": [_("Choose a methodology file (.toml or .json).")]}, 422)
    fmt = services.format_of(upload.filename, None)
    if fmt is None:
        return _list_page({"file": [_("Upload a TOML or JSON methodology file.")]}, 422)
    try:
        _national_admin()
        view = services.upload(upload.read(), fmt, g.user)
    except ApiError as exc:
        return _list_page(_problems(exc), exc.status)
    flash(
        _(
            "Version %(version)s of %(methodology)s is stored as a draft.",
            version=view.methodology.version,
            methodology=view.methodology.id,
        ),
        "success",
    )
    return redirect(
        url_for(
            "web.methodology_version",
            methodology_id=view.methodology.id,
            number=view.methodology.version,
        ),
        303,
    )


def _national_admin() -> None:
    if g.user.region_code is not None:
        raise ApiError("forbidden", _("Only a national admin may manage methodologies."))


def _version_page(
    methodology_id: str,
    number: int,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
):
    view = services.version(methodology_id, number)
    names = user_names({view.row.uploaded_by, view.row.published_by} if view.row else set())
    return render_template(
        "web/methodologies/version.html",
        view=view,
        m=view.methodology,
        names=names,
        errors=errors or {},
        form=form or {"effective_from": "", "period": str(current_period()), "region": ""},
    ), status


@bp.get("/methodologies/<methodology_id>/versions/<int:number>")
@page_role("admin")
def methodology_version(methodology_id: str, number: int):
    """A version's dimensions, indicators, bands and zones; publish and try-it forms."""
    return _version_page(methodology_id, number)


@bp.post("/methodologies/<methodology_id>/versions/<int:number>/publish")
@page_role("admin")
def publish_methodology_page(methodology_id: str, number: int):
    """Publish the draft from the date typed (the page asks to confirm first)."""
    typed = request.form.get("effective_from", "").strip()[:10]
    form = {"effective_from": typed, "period": str(current_period()), "region": ""}
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        errors = {"effective_from": [_("Enter a date as YYYY-MM-DD.")]}
        return _version_page(methodology_id, number, errors, form, 422)
    try:
        _national_admin()
        services.publish(methodology_id, number, day, g.user)
    except ApiError as exc:
        return _version_page(methodology_id, number, _problems(exc), form, exc.status)
    flash(
        _(
            "Version %(version)s of %(methodology)s is published from %(date)s.",
            version=number,
            methodology=methodology_id,
            date=formatting.day(day),
        ),
        "success",
    )
    return redirect(
        url_for("web.methodology_version", methodology_id=methodology_id, number=number), 303
    )


@bp.post("/methodologies/<methodology_id>/versions/<int:number>/try")
@page_role("admin")
def try_methodology_page(methodology_id: str, number: int):
    """Queue a what-if run with this version (a draft too) and open it."""
    period = request.form.get("period", "").strip()[:8]
    region = request.form.get("region", "").strip()[:16]
    form = {"effective_from": "", "period": period, "region": region}
    if period and not period.isdigit():
        errors = {"period": [_("Enter a year, such as %(year)s.", year=current_period())]}
        return _version_page(methodology_id, number, errors, form, 422)
    try:
        run = create_run(
            methodology_id=methodology_id,
            version=number,
            period=int(period) if period else None,
            region=region or None,
            dry_run=True,
            trigger="web",
            user=g.user,
        )
    except ApiError as exc:
        return _version_page(methodology_id, number, _problems(exc), form, exc.status)
    flash(_("Run #%(run_id)s is queued; it starts within a few seconds.", run_id=run.id), "success")
    return redirect(url_for("web.run", run_id=run.id), 303)


@bp.get("/runs/<int:run_id>/diff")
@page_role(*STAFF)
def run_diff(run_id: int):
    """The places whose zone differs between the run and its baseline (or ``against``)."""
    run = get_visible_run(run_id)
    against = request.args.get("against", "")
    against_id = int(against) if against.isdigit() and len(against) < 12 else None
    try:
        baseline, moves = zone_diff(g.user, run, against_id)
    except ApiError as exc:
        return render_template(
            "web/runs/diff.html", run=run, baseline=None, moves=[], refusal=localize(exc.message)
        ), exc.status
    # An agency a dimensional run did not zone is "Belum lengkap", not merely "tanpa zona".
    incomplete = {
        "new": {s["code"] for s in subjects.incomplete(g.user, run)},
        "old": set()
        if baseline is None
        else {s["code"] for s in subjects.incomplete(g.user, baseline)},
    }
    return render_template(
        "web/runs/diff.html",
        run=run,
        baseline=baseline,
        moves=moves,
        refusal=None,
        incomplete=incomplete,
    )


@bp.post("/runs/<int:run_id>/rerun")
@page_role(*STAFF)
def rerun_page(run_id: int):
    """Repeat a run with its own methodology version and hash, period and scope."""
    original = get_visible_run(run_id)
    try:
        run = rerun(original, trigger="web", user=g.user)
    except ApiError as exc:
        flash(localize(exc.message), "error")
        return redirect(url_for("web.run", run_id=original.id), 303)
    flash(_("Run #%(run_id)s is queued; it starts within a few seconds.", run_id=run.id), "success")
    return redirect(url_for("web.run", run_id=run.id), 303)

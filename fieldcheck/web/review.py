"""The review queue: what waits for a decision, its flags and blockers up front, and one
decision for all that a filter matches (``review.queue`` and ``review.bulk``, as the API)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from fieldcheck.auth.services import scope_filter
from fieldcheck.core.integrity import ALL_CODES
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, localize
from fieldcheck.regions.models import Region
from fieldcheck.review import queue as review_queues
from fieldcheck.review.bulk import bulk_review
from fieldcheck.units.models import Unit
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.args import page_number
from fieldcheck.web.blueprint import bp

PER_PAGE = 25

#: What each integrity flag means, for the filter and the inspection page.
FLAG_LABELS = {
    "evidence_missing": N_("Photo evidence missing"),
    "evidence_waived": N_("Missing photo waived"),
    "photo_reused": N_("Photo used on another visit"),
    "exif_outside_visit": N_("Photo taken outside the visit"),
    "photo_gps_far": N_("Photo taken far from the unit"),
    "gps_missing": N_("No GPS location"),
    "gps_far": N_("Visit far from the unit"),
    "short_visit": N_("Very short visit"),
    "clock_future": N_("Phone clock ahead"),
    "late_receipt": N_("Sent long after the visit"),
    "impossible_travel": N_("Impossible travel"),
}

#: Decisions as a reviewer reads them on a button and in a flash message.
DECISION_LABELS = {
    "approve": N_("Approve"),
    "return": N_("Return to the surveyor"),
    "reject": N_("Reject"),
}


def region_choices(user) -> list[tuple[str, str]]:
    """(code, name) of the provinces and regencies that hold units in ``user``'s scope."""
    query = select(Unit.region_code).distinct()
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    codes = set(db.session.execute(query).scalars())
    codes |= {c.split(".")[0] for c in codes}
    if user.region_code:
        codes.add(user.region_code)
    names = dict(
        db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()
    )
    return [(c, names.get(c, c)) for c in sorted(codes)]


def unit_type_choices(user) -> list[str]:
    """The unit types in ``user``'s scope."""
    query = select(Unit.unit_type).distinct().order_by(Unit.unit_type)
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    return list(db.session.execute(query).scalars())


def read_filters(args, user) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The queue filter from a form: (criteria for the services, the values as typed, errors)."""
    typed = {k: (args.get(k) or "").strip() for k in FILTER_FIELDS}
    criteria: dict[str, Any] = {}
    errors: list[str] = []
    if typed["region"]:
        if typed["region"] in {c for c, _name in region_choices(user)}:
            criteria["region"] = typed["region"]
        else:
            errors.append(_("Choose a region from the list."))
    if typed["flag"]:
        if typed["flag"] in ALL_CODES:
            criteria["flag"] = typed["flag"]
        else:
            errors.append(_("Choose a flag from the list."))
    if typed["blockers"]:
        if typed["blockers"] in ("yes", "no"):
            criteria["has_blockers"] = typed["blockers"] == "yes"
        else:
            errors.append(_("Choose whether approval is blocked from the list."))
    if typed["unit_type"]:
        if typed["unit_type"] in unit_type_choices(user):
            criteria["unit_type"] = typed["unit_type"]
        else:
            errors.append(_("Choose a unit type from the list."))
    for key, criterion in (("visited_from", "visited_from"), ("visited_to", "visited_to")):
        if typed[key]:
            try:
                criteria[criterion] = date.fromisoformat(typed[key])
            except ValueError:
                errors.append(_("Write dates as YYYY-MM-DD."))
    return criteria, {k: v for k, v in typed.items() if v}, errors


FILTER_FIELDS = ("region", "flag", "blockers", "unit_type", "visited_from", "visited_to")


@bp.get("/review")
@page_role(*STAFF)
def review_queue():
    """Inspections waiting for a decision in the reviewer's scope, oldest first."""
    return _queue(request.args, status=200)


def _queue(args, status: int, bulk_errors: list[str] | None = None, bulk_form=None):
    """Render the queue for the filter in ``args``."""
    user = g.user
    criteria, typed, errors = read_filters(args, user)
    page = page_number()
    rows, total = ([], 0) if errors else review_queues.review_queue(user, criteria, page, PER_PAGE)
    return render_template(
        "web/review/queue.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        typed=typed,
        errors=errors,
        regions=region_choices(user),
        unit_types=unit_type_choices(user),
        flag_labels=FLAG_LABELS,
        decisions=DECISION_LABELS,
        bulk_max=current_app.config["BULK_REVIEW_MAX"],
        bulk_errors=bulk_errors or [],
        bulk_form=bulk_form or {},
        outcome=session.pop("review_bulk_outcome", None),
    ), (422 if errors else status)


@bp.post("/review/bulk")
@page_role(*STAFF)
def review_bulk():
    """One decision for every waiting inspection the queue's filter matches (review.bulk)."""
    user = g.user
    form = request.form
    criteria, typed, errors = read_filters(form, user)
    decision = form.get("decision", "")
    reason = (form.get("reason") or "").strip() or None
    if errors:
        return _queue(form, 422)
    expected = form.get("expected", "")
    _rows, total = review_queues.review_queue(user, criteria, 1, 1)
    if not expected.isdigit() or int(expected) != total:
        # The queue moved since the page was read: the person confirmed another number.
        message = _(
            "The number of matching inspections changed to %(n)s; check and confirm again.", n=total
        )
        return _queue(form, 409, [message], form)
    try:
        results = bulk_review(
            user,
            {**criteria, "status": "received"},
            None,
            decision,
            reason,
            current_app.config["BULK_REVIEW_MAX"],
        )
    except ApiError as error:
        db.session.rollback()
        messages = [localize(m) for ms in error.details.get("fields", {}).values() for m in ms]
        return _queue(form, error.status, messages or [localize(error.message)], form)
    failed = [r for r in results if not r.ok]
    session["review_bulk_outcome"] = {
        "decision": decision,
        "matched": len(results),
        "applied": len(results) - len(failed),
        "failed": [
            {"id": r.id, "message": localize(r.message), "blockers": r.blockers or []}
            for r in failed[:100]
        ],
    }
    flash(
        _(
            "%(applied)s of %(matched)s inspections: %(decision)s.",
            applied=len(results) - len(failed),
            matched=len(results),
            decision=_(DECISION_LABELS.get(decision, decision)),
        ),
        "success",
    )
    return redirect(url_for("web.review_queue", **typed), 303)

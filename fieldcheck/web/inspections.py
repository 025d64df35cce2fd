"""One inspection as a reviewer reads it, and the forms that act on it: review, comment, waive a
missing photo, decide an objection. Each form calls the service the API calls."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import user_names
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.checks import value_in_force
from fieldcheck.core.model import DELIVERY_COMPONENTS
from fieldcheck.errors import ApiError
from fieldcheck.evidence.blockers import approval_blockers, waive
from fieldcheck.evidence.models import EvidenceWaiver
from fieldcheck.evidence.state import photo_details
from fieldcheck.evidence.visibility import flags_for
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, format_param, localize, render, render_flags
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.visibility import get_visible_inspection
from fieldcheck.review.comments import add_comment
from fieldcheck.review.decisions import ALLOWED, review, review_blockers
from fieldcheck.review.models import Comment, Objection, Review
from fieldcheck.review.objections import decide_objection, visible_objection
from fieldcheck.review.queue import next_waiting
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp
from fieldcheck.web.review import DECISION_LABELS, FLAG_LABELS

#: What a reviewer should check for each flag (the flag's own message says what was measured).
FLAG_HELP = {
    "evidence_missing": N_(
        "An item that needs a photo was answered yes, but the photo has not arrived. Approval "
        "waits until it arrives or a supervisor waives it with a reason."
    ),
    "evidence_waived": N_("A supervisor accepted the missing photo; the reason is recorded."),
    "photo_reused": N_(
        "The same photo is attached to another visit: check that it shows this unit on this day."
    ),
    "exif_outside_visit": N_(
        "The camera's time lies outside the visit: the photo may be older than the visit."
    ),
    "photo_gps_far": N_("The camera's position is far from the unit: check where it was taken."),
    "gps_missing": N_("The phone sent no position: the visit's place cannot be checked."),
    "gps_far": N_("The phone was far from the unit when the checklist was finished."),
    "short_visit": N_("The visit was shorter than an inspection of this kind needs."),
    "clock_future": N_("The phone's clock was ahead of the server's: its times may be wrong."),
    "late_receipt": N_("The checklist was sent long after the visit."),
    "impossible_travel": N_(
        "The same surveyor was recorded at another unit too far away to travel between in time."
    ),
}

ANSWER_WORDS = {
    "yes": N_("yes"),
    "partial": N_("partly"),
    "no": N_("no"),
    "na": N_("not applicable"),
}


def _standards(inspection: Inspection) -> list[dict[str, Any]]:
    """Each posted service standard beside the legal values in force on the visit date.

    The legal values come from the core's ``value_in_force`` (what the legal checks compare
    with); whether a component passed is what the stored findings say.
    """
    catalogue = get_registry().catalogue
    out = []
    for row in inspection.posted_standards:
        service = catalogue.services.get(row.service_code)
        findings = [f for f in inspection.findings if f.service_code == row.service_code]
        fee = value_in_force(service, "fee_max", inspection.visit_date)
        days = value_in_force(service, "max_days", inspection.visit_date)
        reqs = value_in_force(service, "requirements_only", inspection.visit_date)

        def failed(component: str, findings=findings) -> bool:
            return any(
                f.component == component and f.severity == "violation" and not f.is_withdrawn
                for f in findings
            )

        def req_name(code: str) -> str:
            known = catalogue.requirements.get(code)
            return known.name if known is not None else code

        def comp_name(code: str) -> str:
            known = catalogue.components.get(code)
            return known.name if known is not None else code

        out.append(
            {
                "code": row.service_code,
                "name": service.name if service is not None else row.service_code,
                "components": [
                    {"name": comp_name(c), "posted": c in (row.components or ())}
                    for c in DELIVERY_COMPONENTS
                ],
                "rows": [
                    {
                        "label": N_("Fee"),
                        "posted": row.fee_idr,
                        "legal": fee.value if fee else None,
                        "kind": "rupiah",
                        "citation": fee.citation if fee else None,
                        "failed": failed("biaya"),
                    },
                    {
                        "label": N_("Days to complete"),
                        "posted": row.max_days,
                        "legal": days.value if days else None,
                        "kind": "days",
                        "citation": days.citation if days else None,
                        "failed": failed("waktu"),
                    },
                    {
                        "label": N_("Requirements"),
                        "posted": list(row.requirements or ()),
                        "legal": [req_name(c) for c in reqs.value] if reqs else None,
                        "kind": "list",
                        "citation": reqs.citation if reqs else None,
                        "failed": failed("persyaratan"),
                    },
                ],
            }
        )
    return out


def _page(
    inspection: Inspection,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
):
    """Render the inspection page (with a form's errors when it was refused)."""
    user: User = g.user
    methodology = get_registry().methodology(
        inspection.methodology_id, inspection.methodology_version
    )
    # The stored answers come by code (AT-01 first); a reviewer follows the checklist, so the
    # table takes the methodology's order (an unknown code, if any, goes last by code).
    position = {ind.code: n for n, ind in enumerate(methodology.indicators)} if methodology else {}
    ordered = sorted(
        inspection.answers,
        key=lambda a: (position.get(a.indicator_code, len(position)), a.indicator_code),
    )
    answers = [
        {
            "code": a.indicator_code,
            "question": (
                methodology.indicator(a.indicator_code).question
                if methodology and methodology.indicator(a.indicator_code)
                else a.indicator_code
            ),
            "value": a.value,
            "note": a.note,
            "photos": len(a.photos or ()),
        }
        for a in ordered
    ]
    findings = [{"row": f, "message": render(f.message, f.params)} for f in inspection.findings]
    objections = list(
        db.session.execute(
            select(Objection).where(Objection.inspection_id == inspection.id).order_by(Objection.id)
        ).scalars()
    )
    finding_by_id = {f["row"].id: f for f in findings}
    photos = photo_details(inspection)
    locale = str(get_locale() or "id")
    distances = {
        p.sha256: format_param("distance_m", p.distance_m, locale)
        if p.distance_m is not None
        else None
        for p in photos
    }
    reviews = _reviews(inspection)
    waivers = _waivers(inspection)
    people = user_names(
        [r.reviewer_id for r in reviews]
        + [o.recorded_by_id for o in objections]
        + [o.decided_by_id for o in objections if o.decided_by_id]
        + [w.waived_by for w in waivers]
    )
    flags = render_flags(flags_for([inspection.flags or []], user)[0])
    missing = [b.split(":", 1)[1] for b in approval_blockers(inspection)]
    return render_template(
        "web/inspections/inspection.html",
        i=inspection,
        unit=inspection.unit,
        methodology=methodology,
        answers=answers,
        answer_words=ANSWER_WORDS,
        standards=_standards(inspection),
        findings=findings,
        photos=photos,
        distances=distances,
        flags=flags,
        flag_labels=FLAG_LABELS,
        flag_help=FLAG_HELP,
        reviews=reviews,
        comments=list(
            db.session.execute(
                select(Comment).where(Comment.inspection_id == inspection.id).order_by(Comment.id)
            ).scalars()
        ),
        waivers=waivers,
        missing=missing,
        objections=objections,
        finding_by_id=finding_by_id,
        people=people,
        blockers=review_blockers(inspection),
        allowed=ALLOWED[inspection.status],
        decisions=DECISION_LABELS,
        errors=errors or {},
        form=form or {},
    ), status


def _reviews(inspection: Inspection) -> list[Review]:
    return list(
        db.session.execute(
            select(Review).where(Review.inspection_id == inspection.id).order_by(Review.id)
        ).scalars()
    )


def _waivers(inspection: Inspection) -> list[EvidenceWaiver]:
    return list(
        db.session.execute(
            select(EvidenceWaiver)
            .where(EvidenceWaiver.inspection_id == inspection.id)
            .order_by(EvidenceWaiver.id)
        ).scalars()
    )


def _refused(inspection_id: int, form_name: str, error: ApiError):
    """The page again, its form showing why the service refused (422, 409...); nothing kept."""
    db.session.rollback()
    inspection = get_visible_inspection(inspection_id)
    messages = [localize(m) for ms in error.details.get("fields", {}).values() for m in ms]
    if error.code == "review_blocked":
        messages = [localize(error.message)] + list(error.details.get("blockers", []))
    if not messages:
        messages = [localize(error.message)]
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _page(inspection, {form_name: messages}, form, error.status)


@bp.get("/inspections/<int:inspection_id>")
@page_role(*STAFF)
def inspection(inspection_id: int):
    """One inspection: answers, posted standards against the law, findings, photos, flags,
    history, comments, waivers, objections and the review actions."""
    return _page(get_visible_inspection(inspection_id))


@bp.post("/inspections/<int:inspection_id>/review")
@page_role(*STAFF)
def inspection_review(inspection_id: int):
    """Approve, return or reject (review.decisions.review), then the next waiting inspection."""
    found = get_visible_inspection(inspection_id)
    decision = request.form.get("decision", "")
    reason = (request.form.get("reason") or "").strip() or None
    try:
        review(found, decision, reason, g.user)
    except ApiError as error:
        return _refused(inspection_id, "review", error)
    flash(
        _(
            "Inspection #%(id)s: %(decision)s.",
            id=inspection_id,
            decision=_(DECISION_LABELS[decision]),
        ),
        "success",
    )
    following = next_waiting(g.user, found)
    if following is None:
        return redirect(url_for("web.review_queue"), 303)
    return redirect(url_for("web.inspection", inspection_id=following), 303)


@bp.post("/inspections/<int:inspection_id>/comments")
@page_role(*STAFF)
def inspection_comment(inspection_id: int):
    """Add a comment (review.comments.add_comment)."""
    found = get_visible_inspection(inspection_id)
    try:
        add_comment(found, request.form.get("body", ""), g.user)
    except ApiError as error:
        return _refused(inspection_id, "comment", error)
    flash(_("Your comment was added."), "success")
    return redirect(url_for("web.inspection", inspection_id=inspection_id) + "#comments", 303)


@bp.post("/inspections/<int:inspection_id>/waivers")
@page_role(*STAFF)
def inspection_waiver(inspection_id: int):
    """Waive a missing photo for one indicator, with a reason (evidence.blockers.waive)."""
    found = get_visible_inspection(inspection_id)
    indicator = request.form.get("indicator", "")[:32]
    try:
        waive(found, indicator, (request.form.get("reason") or "").strip(), g.user)
    except ApiError as error:
        return _refused(inspection_id, "waiver", error)
    flash(_("The missing photo for %(indicator)s was waived.", indicator=indicator), "success")
    return redirect(url_for("web.inspection", inspection_id=inspection_id) + "#evidence", 303)


@bp.post("/objections/<int:objection_id>/decision")
@page_role(*STAFF)
def objection_decision(objection_id: int):
    """Uphold or dismiss a pending objection (review.objections.decide_objection)."""
    objection, found = visible_objection(objection_id)
    decision = request.form.get("decision", "")
    try:
        decide_objection(
            objection, found, decision, (request.form.get("reason") or "").strip(), g.user
        )
    except ApiError as error:
        return _refused(found.id, f"objection-{objection_id}", error)
    flash(_("The objection was decided: %(decision)s.", decision=_(decision)), "success")
    return redirect(url_for("web.inspection", inspection_id=found.id) + "#objections", 303)

"""The review queue page: scope, flags and blockers up front, filters, bulk decisions."""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.auth.models import User
from fieldcheck.auth.services import issue_token
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.decisions import review_blockers_for_ids
from fieldcheck.review.models import Review
from fieldcheck.units.models import Unit
from tests.helpers import post_json
from tests.web.conftest import pages_as
from tests.web.pages import Pages, text_of

INSPECTIONS = "/api/v1/inspections"


def token_of(app, username: str) -> str:
    """A fresh API token for a demo login."""
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        token = issue_token(user)
        db.session.commit()
        return token


def post_inspection(app, factory, username="surveyor-jatim", unit="35.15-DUKCAPIL", photos=True):
    """Post a fresh all-yes checklist through the API as a demo surveyor; its id.

    Without ``photos`` its photo-required items have no photo: approval is blocked.
    """
    token = token_of(app, username)
    body = factory.all_yes_submission(unit)
    if photos:
        body = factory.with_evidence(body, token)
    response = post_json(app.test_client(), INSPECTIONS, body, token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def demo_waiting(app, region: str) -> tuple[list[int], set[int]]:
    """The demo's inspections waiting for review in ``region``, oldest first, and those of them
    whose approval is blocked (the demo leaves work in the queue: see fieldcheck/demo/received.py).
    """
    with app.app_context():
        ids = list(
            db.session.execute(
                select(Inspection.id)
                .join(Unit, Unit.id == Inspection.unit_id)
                .where(Inspection.status == "received", Unit.region_code.startswith(region))
                .order_by(Inspection.received_at, Inspection.id)
            ).scalars()
        )
        return ids, set(review_blockers_for_ids(ids))


def status_of(app, inspection_id: int) -> str:
    """The stored status of an inspection."""
    with app.app_context():
        return db.session.get(Inspection, inspection_id).status


def test_queue_shows_waiting_inspections_in_scope_with_flags_and_blockers(demo, factory):
    already, _blocked = demo_waiting(demo, "35")
    clean = post_inspection(demo, factory)
    blocked = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    sumbar = post_inspection(demo, factory, "surveyor-sumbar", "13.71-DUKCAPIL")

    jatim = pages_as(demo, "supervisor-jatim")
    page = jatim.get("/review")
    assert page.status_code == 200
    html = text_of(page)
    assert f'href="/inspections/{clean}"' in html and f'href="/inspections/{blocked}"' in html
    assert f'href="/inspections/{sumbar}"' not in html  # 13 is outside East Java
    assert 'href="/units/35.25-DUKCAPIL"' in html
    assert f"{2 + len(already)} inspeksi menunggu" in html
    # The blocker is up front, in Indonesian; the demo's approved inspections are not listed.
    assert "Persetujuan terhambat" in html
    assert "foto buktinya belum diterima" in html
    # Oldest first.
    assert html.index(f'/inspections/{clean}"') < html.index(f'/inspections/{blocked}"')

    only_blocked = text_of(jatim.get("/review?blockers=yes"))
    assert (
        f'/inspections/{blocked}"' in only_blocked and f'/inspections/{clean}"' not in only_blocked
    )
    by_flag = text_of(jatim.get("/review?flag=evidence_missing&region=35.25"))
    assert f'/inspections/{blocked}"' in by_flag and f'/inspections/{clean}"' not in by_flag
    by_type = text_of(jatim.get("/review?unit_type=disdukcapil&visited_from=2000-01-01"))
    assert f'/inspections/{clean}"' in by_type
    assert "0 inspeksi menunggu" in text_of(jatim.get("/review?visited_to=2000-01-01"))
    not_blocked = text_of(jatim.get("/review?blockers=no"))
    assert f'/inspections/{clean}"' in not_blocked and f'/inspections/{blocked}"' not in not_blocked

    # Bad filters: a readable 422 page, never a 500; a region outside scope is refused too.
    for bad in ("/review?visited_from=kemarin", "/review?flag=nope", "/review?region=13"):
        refused = jatim.get(bad)
        assert refused.status_code == 422, bad
        assert "0 inspeksi menunggu" in text_of(refused)

    sumbar_page = text_of(pages_as(demo, "supervisor-sumbar").get("/review"))
    assert f'/inspections/{sumbar}"' in sumbar_page
    assert f'/inspections/{clean}"' not in sumbar_page and "35.15" not in sumbar_page

    assert pages_as(demo, "surveyor-jatim").get("/review").status_code == 403
    anonymous = Pages(demo.test_client()).get("/review")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_bulk_decision_by_filter_reports_each_item(demo, factory):
    already, stuck = demo_waiting(demo, "35")
    matching = 3 + len(already)
    first = post_inspection(demo, factory)
    second = post_inspection(demo, factory, unit="35.15-RSUD")
    blocked = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    outside = post_inspection(demo, factory, "surveyor-sumbar", "13.71-DUKCAPIL")
    jatim = pages_as(demo, "supervisor-jatim")
    page = text_of(jatim.get("/review"))
    assert f"Setujui semua {matching}" in page

    # Without a token: refused, nothing decided.
    no_csrf = jatim.post(
        "/review/bulk", {"decision": "approve", "expected": str(matching)}, csrf=False
    )
    assert no_csrf.status_code == 400
    # Return needs a reason (the API's rule): 422, nothing decided.
    no_reason = jatim.post("/review/bulk", {"decision": "return", "expected": str(matching)})
    assert no_reason.status_code == 422
    assert "wajib disertai alasan" in text_of(no_reason)
    # The person confirmed another number than what matches now: 409, nothing decided.
    stale = jatim.post("/review/bulk", {"decision": "approve", "expected": str(matching + 2)})
    assert stale.status_code == 409
    assert {status_of(demo, i) for i in (first, second, blocked, *already)} == {"received"}

    done = jatim.post("/review/bulk", {"decision": "approve", "expected": str(matching)})
    assert done.status_code == 303
    summary = text_of(jatim.get(done.headers["Location"]))
    applied, refused = 2 + len(already) - len(stuck), 1 + len(stuck)
    told = f"{applied} diterapkan, {refused} tidak diterapkan, dari {matching} yang cocok"
    assert told in summary
    assert f'href="/inspections/{blocked}"' in summary and "belum diterima" in summary
    assert [status_of(demo, i) for i in (first, second, blocked, outside)] == [
        "approved",
        "approved",
        "received",
        "received",
    ]
    assert [status_of(demo, i) for i in already] == [
        "received" if i in stuck else "approved" for i in already
    ]
    with demo.app_context():
        rows = db.session.execute(
            select(Review.inspection_id).where(Review.inspection_id.in_([first, second]))
        ).scalars()
        assert sorted(rows) == [first, second]
        audit = (
            db.session.execute(select(AuditEntry).where(AuditEntry.action == "inspection.approve"))
            .scalars()
            .all()
        )
        assert {a.object_id for a in audit} >= {str(first), str(second)}

    # The bulk form carries the filter: return only what is blocked, with a reason.
    jatim.get("/review?blockers=yes")
    returned = jatim.post(
        "/review/bulk",
        {
            "decision": "return",
            "reason": "Foto belum lengkap",
            "blockers": "yes",
            "expected": str(1 + len(stuck)),
        },
    )
    assert returned.status_code == 303
    assert status_of(demo, blocked) == "returned"
    assert status_of(demo, outside) == "received"

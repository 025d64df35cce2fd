"""The review queue page: scope, flags and blockers up front, filters, bulk decisions."""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.auth.models import User
from fieldcheck.auth.services import issue_token
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Review
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


def status_of(app, inspection_id: int) -> str:
    """The stored status of an inspection."""
    with app.app_context():
        return db.session.get(Inspection, inspection_id).status


def test_queue_shows_waiting_inspections_in_scope_with_flags_and_blockers(demo, factory):
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
    assert "2 inspeksi menunggu" in html
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
    first = post_inspection(demo, factory)
    second = post_inspection(demo, factory, unit="35.15-RSUD")
    blocked = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    outside = post_inspection(demo, factory, "surveyor-sumbar", "13.71-DUKCAPIL")
    jatim = pages_as(demo, "supervisor-jatim")
    page = text_of(jatim.get("/review"))
    assert "Setujui semua 3" in page

    # Without a token: refused, nothing decided.
    no_csrf = jatim.post("/review/bulk", {"decision": "approve", "expected": "3"}, csrf=False)
    assert no_csrf.status_code == 400
    # Return needs a reason (the API's rule): 422, nothing decided.
    no_reason = jatim.post("/review/bulk", {"decision": "return", "expected": "3"})
    assert no_reason.status_code == 422
    assert "wajib disertai alasan" in text_of(no_reason)
    # The person confirmed another number than what matches now: 409, nothing decided.
    stale = jatim.post("/review/bulk", {"decision": "approve", "expected": "7"})
    assert stale.status_code == 409
    assert {status_of(demo, i) for i in (first, second, blocked)} == {"received"}

    done = jatim.post("/review/bulk", {"decision": "approve", "expected": "3"})
    assert done.status_code == 303
    summary = text_of(jatim.get(done.headers["Location"]))
    assert "2 diterapkan, 1 tidak diterapkan, dari 3 yang cocok" in summary
    assert f'href="/inspections/{blocked}"' in summary and "belum diterima" in summary
    assert [status_of(demo, i) for i in (first, second, blocked, outside)] == [
        "approved",
        "approved",
        "received",
        "received",
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
        {"decision": "return", "reason": "Foto belum lengkap", "blockers": "yes", "expected": "1"},
    )
    assert returned.status_code == 303
    assert status_of(demo, blocked) == "returned"
    assert status_of(demo, outside) == "received"

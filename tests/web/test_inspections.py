"""The inspection page: what a reviewer reads, and its forms (review, comment, waiver,
objection) through the same services as the API."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.evidence.models import EvidenceWaiver
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Comment, Objection, Review
from tests.helpers import post_json
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import Pages, text_of
from tests.web.test_review import (
    INSPECTIONS,
    demo_waiting,
    post_inspection,
    status_of,
    token_of,
)


def count(app, model, **where) -> int:
    """Rows of ``model`` matching ``where``."""
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.execute(query).scalar_one()


def post_with_findings(app, factory) -> int:
    """The documented sample (findings, posted standards) as surveyor-jatim; its id."""
    token = token_of(app, "surveyor-jatim")
    response = post_json(app.test_client(), INSPECTIONS, factory.submission(), token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_inspection_page_shows_what_a_reviewer_needs(demo, factory):
    sample = post_with_findings(demo, factory)
    jatim = pages_as(demo, "supervisor-jatim")
    page = jatim.get(f"/inspections/{sample}")
    assert page.status_code == 200
    html = text_of(page)
    with demo.app_context():
        inspection = db.session.get(Inspection, sample)
        finding = inspection.findings[0]
        answer = inspection.answers[0]
        posted = inspection.posted_standards[0]
    # Answers with the methodology's question; posted standards beside the law; findings cited.
    assert answer.indicator_code in html and "Apakah unit layanan" in html
    assert "Standar yang dipublikasikan dan ketentuan hukum" in html
    assert posted.service_code in html and "Ketentuan hukum" in html
    assert finding.citation in html
    assert "Temuan" in html and "pelanggaran" in html
    # Times in the unit's own zone (Sidoarjo: WIB); the actions with their keys.
    assert "WIB" in html
    assert 'data-key="a"' in html and 'data-key="r"' in html and 'data-key="x"' in html
    assert "Riwayat pemeriksaan" in html and "Komentar" in html and "Sanggahan" in html

    # Out of scope: a 404 page, as the API answers; a surveyor: 403; anonymous: the login.
    sumbar = pages_as(demo, "supervisor-sumbar")
    outside = sumbar.get(f"/inspections/{sample}")
    assert outside.status_code == 404 and "Inspeksi tidak ditemukan" in text_of(outside)
    refused = sumbar.post(f"/inspections/{sample}/review", {"decision": "approve"})
    assert refused.status_code == 404
    assert sumbar.post(f"/inspections/{sample}/comments", {"body": "x"}).status_code == 404
    assert pages_as(demo, "surveyor-jatim").get(f"/inspections/{sample}").status_code == 403
    anonymous = Pages(demo.test_client()).get(f"/inspections/{sample}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert jatim.get("/inspections/999999").status_code == 404

    # English on request.
    jatim.post("/language", {"lang": "en", "next": f"/inspections/{sample}"})
    english = text_of(jatim.get(f"/inspections/{sample}"))
    assert "Posted standards and the law" in english and "Review history" in english


def test_review_actions_follow_the_api_rules(demo, factory):
    already, _stuck = demo_waiting(demo, "35")
    first = post_inspection(demo, factory)
    second = post_inspection(demo, factory, unit="35.15-RSUD")
    blocked = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    jatim = pages_as(demo, "supervisor-jatim")
    jatim.get(f"/inspections/{first}")

    # No CSRF token: 400, nothing changes.
    no_csrf = jatim.post(f"/inspections/{first}/review", {"decision": "approve"}, csrf=False)
    assert no_csrf.status_code == 400 and status_of(demo, first) == "received"
    # Return without a reason: the page again, 422, with the API's message.
    no_reason = jatim.post(f"/inspections/{first}/review", {"decision": "return", "reason": " "})
    assert no_reason.status_code == 422
    assert "Keputusan ini wajib disertai alasan." in text_of(no_reason)
    nonsense = jatim.post(f"/inspections/{first}/review", {"decision": "maybe"})
    assert nonsense.status_code == 422 and status_of(demo, first) == "received"

    # Approve: status, review row and audit entry like the API; on to the next waiting one
    # (oldest first: the demo's own waiting visits, when it left some in East Java).
    approved = jatim.post(f"/inspections/{first}/review", {"decision": "approve"})
    assert approved.status_code == 303
    assert approved.headers["Location"] == f"/inspections/{(already or [second])[0]}"
    assert status_of(demo, first) == "approved"
    assert count(demo, Review, inspection_id=first, decision="approve") == 1
    assert count(demo, AuditEntry, action="inspection.approve", object_id=str(first)) == 1
    assert f"Inspeksi #{first}: Setujui." in text_of(jatim.get(approved.headers["Location"]))
    # Approving again is the API's invalid transition: 409, shown on the page.
    again = jatim.post(f"/inspections/{first}/review", {"decision": "approve"})
    assert again.status_code == 409

    # A blocked approval is refused with the reason; nothing is written.
    stuck = jatim.post(f"/inspections/{blocked}/review", {"decision": "approve"})
    assert stuck.status_code == 409
    assert "Inspeksi belum dapat disetujui." in text_of(stuck)
    assert "foto buktinya belum diterima" in text_of(stuck)
    assert status_of(demo, blocked) == "received"
    assert count(demo, Review, inspection_id=blocked) == 0

    returned = jatim.post(
        f"/inspections/{second}/review", {"decision": "return", "reason": "Foto buram"}
    )
    assert returned.status_code == 303 and status_of(demo, second) == "returned"
    with demo.app_context():
        assert db.session.get(Inspection, second).review_reason == "Foto buram"


def test_comment_waiver_and_objection_forms(demo, factory):
    blocked = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    sample = post_with_findings(demo, factory)
    jatim = pages_as(demo, "supervisor-jatim")
    page = text_of(jatim.get(f"/inspections/{blocked}"))
    assert "Bebaskan foto yang belum ada" in page

    # Comments: CSRF, blank, then one kept.
    url = f"/inspections/{blocked}/comments"
    assert jatim.post(url, {"body": "Cek ulang"}, csrf=False).status_code == 400
    blank = jatim.post(url, {"body": "   "})
    assert blank.status_code == 422 and "Tuliskan komentar" in text_of(blank)
    assert count(demo, Comment, inspection_id=blocked) == 0
    added = jatim.post(url, {"body": "Mohon cek papan maklumat"})
    assert added.status_code == 303
    assert "Mohon cek papan maklumat" in text_of(jatim.get(f"/inspections/{blocked}"))

    # Waivers: CSRF, a too-short reason, an indicator without a missing photo, then the real one.
    with demo.app_context():
        from fieldcheck.evidence.blockers import approval_blockers

        indicator = approval_blockers(db.session.get(Inspection, blocked))[0].split(":", 1)[1]
    url = f"/inspections/{blocked}/waivers"
    ok = {"indicator": indicator, "reason": "Papan dilepas untuk renovasi"}
    assert jatim.post(url, ok, csrf=False).status_code == 400
    short = jatim.post(url, {"indicator": indicator, "reason": "x"})
    assert short.status_code == 422 and "5 sampai 2000 karakter" in text_of(short)
    wrong = jatim.post(url, {"indicator": "NOPE", "reason": "Papan dilepas"})
    assert wrong.status_code == 422
    assert count(demo, EvidenceWaiver, inspection_id=blocked) == 0
    waived = jatim.post(url, ok)
    assert waived.status_code == 303
    assert count(demo, EvidenceWaiver, inspection_id=blocked) > 0
    after = text_of(jatim.get(f"/inspections/{blocked}"))
    assert "Papan dilepas untuk renovasi" in after

    # Objections: recorded through the API, decided on the page.
    with demo.app_context():
        finding_id = db.session.get(Inspection, sample).findings[0].id
    token = token_of(demo, "supervisor-jatim")
    recorded = post_json(
        demo.test_client(),
        f"/api/v1/findings/{finding_id}/objections",
        {"text": "Biaya sudah sesuai Perda"},
        token,
    )
    assert recorded.status_code == 201, recorded.get_json()
    objection_id = recorded.get_json()["id"]
    page = text_of(jatim.get(f"/inspections/{sample}"))
    assert "Biaya sudah sesuai Perda" in page and "menunggu (pending)" in page
    url = f"/objections/{objection_id}/decision"
    assert jatim.post(url, {"decision": "dismissed", "reason": "x"}, csrf=False).status_code == 400
    no_reason = jatim.post(url, {"decision": "dismissed", "reason": ""})
    assert no_reason.status_code == 422
    sumbar = pages_as(demo, "supervisor-sumbar")
    assert sumbar.post(url, {"decision": "dismissed", "reason": "x"}).status_code == 404
    with demo.app_context():
        assert db.session.get(Objection, objection_id).status == "pending"
    decided = jatim.post(url, {"decision": "dismissed", "reason": "Tarif tidak sesuai Perda"})
    assert decided.status_code == 303
    with demo.app_context():
        assert db.session.get(Objection, objection_id).status == "dismissed"
    assert "Tarif tidak sesuai Perda" in text_of(jatim.get(f"/inspections/{sample}"))


def test_queue_to_inspection_and_approve_by_keyboard(demo, factory, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC  # noqa: N812

    already, _stuck = demo_waiting(demo, "35")
    first = post_inspection(demo, factory)
    second = post_inspection(demo, factory, unit="35.25-DUKCAPIL", photos=False)
    login(browser, "supervisor-jatim")
    # login() only clicks: wait for the redirect, or the next get() may cut the POST short
    # (seen on a loaded machine).
    waiting(browser, 30).until(lambda d: "/login" not in d.current_url)
    browser.get(browser.base + "/review")
    assert f"/inspections/{first}" in browser.page_source
    shot(browser, "review-queue")
    assert_accessible(browser)

    # Oldest first: walk past the demo's waiting visits down to ours, then open it.
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(len(already) + 1):
        body.send_keys("j")
    body.send_keys(Keys.ENTER)
    waiting(browser, 30).until(EC.url_contains(f"/inspections/{first}"))
    shot(browser, "inspection")
    assert_accessible(browser)

    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    # Approved; the next waiting inspection opens, with the flash.
    following = (already or [second])[0]
    waiting(browser, 30).until(EC.url_contains(f"/inspections/{following}"))
    assert f"Inspeksi #{first}: Setujui." in browser.page_source
    assert status_of(demo, first) == "approved"
    shot(browser, "inspection-blocked")
    assert_accessible(browser)

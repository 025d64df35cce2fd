"""The inspection page after the user trial (issue 15): the surveyor's general note is shown,
escaped, with its line breaks; answers follow the methodology's indicator order; item codes in
photo captions never break at their hyphen (in Chromium)."""

from __future__ import annotations

import re

from fieldcheck.catalogue.registry import get_registry
from tests.helpers import post_json
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import text_of
from tests.web.test_review import INSPECTIONS, token_of

NOTE = "Loket 2 tutup pukul 12.00.\nAntrean <b>panjang</b> & tidak ada nomor antrean."


def _post(app, factory, notes: str | None) -> int:
    """An all-yes checklist with one photo on its photo items and ``notes``; its id."""
    token = token_of(app, "surveyor-jatim")
    body = factory.with_evidence(factory.all_yes_submission("35.15-DUKCAPIL"), token)
    body["notes"] = notes
    response = post_json(app.test_client(), INSPECTIONS, body, token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_the_note_is_shown_escaped_and_answers_follow_the_methodology(demo, factory):
    inspection_id = _post(demo, factory, NOTE)
    html = text_of(pages_as(demo, "supervisor-jatim").get(f"/inspections/{inspection_id}"))
    assert "Catatan surveyor" in html
    note = re.search(r'<dd class="surveyor-note">(.*?)</dd>', html, re.S).group(1)
    # Escaped (no markup from a phone reaches the page), the line break kept in the text.
    assert note == (
        "Loket 2 tutup pukul 12.00.\nAntrean &lt;b&gt;panjang&lt;/b&gt; &amp; "
        "tidak ada nomor antrean."
    )
    assert "<b>panjang" not in html
    # The answers table in the methodology's order (SP-01 ... SK-01), not by code (AT-01 first).
    table = html[html.index('id="answers-title"') :]
    table = table[: table.index("</table>")]
    shown = re.findall(r'<tr><td class="nowrap">([A-Z0-9-]+)</td>', table)
    with demo.app_context():
        order = [i.code for i in get_registry().methodology("ombudsman-2019").indicators]
    assert shown == [code for code in order if code in shown]
    assert len(shown) >= 10 and shown != sorted(shown)


def test_no_note_says_so(demo, factory):
    inspection_id = _post(demo, factory, None)
    html = text_of(pages_as(demo, "supervisor-jatim").get(f"/inspections/{inspection_id}"))
    assert "Tidak ada catatan umum." in html


def test_note_lines_and_unbroken_codes_in_chromium(demo, factory, browser):
    from selenium.webdriver.common.by import By

    inspection_id = _post(demo, factory, NOTE)
    login(browser, "supervisor-jatim")
    browser.get(f"{browser.base}/inspections/{inspection_id}")
    note = waiting(browser, 30).until(
        lambda b: (
            b.find_elements(By.CSS_SELECTOR, ".surveyor-note")
            and b.find_element(By.CSS_SELECTOR, ".surveyor-note")
        )
    )
    # Rendered on two lines (white-space: pre-line), the markup shown as text.
    assert note.text == NOTE
    codes = browser.find_elements(By.CSS_SELECTOR, ".photo-list .item-code")
    assert len(codes) >= 3  # one photo on every photo-required item: a caption that wraps
    for code in codes:
        # An inline box that wraps has one client rect per line: "PG-" and "01" would be two.
        assert browser.execute_script("return arguments[0].getClientRects().length", code) == 1
        assert "\n" not in code.text
    shot(browser, "inspection-note")
    assert_accessible(browser)

"""An interview is validated and scored with the methodology version in force on its date
(issue 16): an admin publishes version 2 of the test methodology from 2026-06-01 with another
weight; a record of May keeps version 1, one of June gets version 2; naming a version not in
force that day is refused."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import post_json
from tests.interviews.conftest import M, record

FILE = Path(__file__).parent / "methodologies" / "uji-wawancara.toml"


def _version_2() -> str:
    """uji-wawancara as a draft version 2 where OUT-02 weighs 3 instead of 1, with what strict
    loading needs (confidence everywhere, a legal basis on every indicator)."""
    text = FILE.read_text(encoding="utf-8")
    text = text.replace("version = 1\n", "version = 2\n", 1)
    text = text.replace('status = "published"', 'status = "draft"', 1)
    head, marker, tail = text.partition('code = "OUT-02"\n')
    text = head + marker + tail.replace("weight = 1\n", "weight = 3\n", 1)
    blocks = re.split(r"(?m)^(?=\[\[(?:indicators|bands|dimensions)\]\]\n)", text)
    out = []
    for block in blocks:
        if block.startswith(("[[indicators]]", "[[bands]]", "[[dimensions]]")):
            header, _, rest = block.partition("\n")
            extra = 'confidence = "unverified"\n'
            if header == "[[indicators]]" and "legal_basis" not in rest:
                extra += 'legal_basis = ["UU 25/2009 Pasal 21"]\n'
            block = f"{header}\n{extra}{rest}"
        out.append(block)
    return "".join(out)


def _publish_version_2(people) -> None:
    admin = people.tokens["admin"]
    uploaded = people.client.post(
        "/api/v1/methodologies",
        data=_version_2().encode(),
        content_type="application/toml",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    published = post_json(
        people.client,
        f"/api/v1/methodologies/{M}/versions/2/publish",
        {"effective_from": "2026-06-01"},
        admin,
    )
    assert published.status_code == 200, published.get_json()


def test_each_record_gets_the_version_in_force_on_its_date(people):
    _publish_version_2(people)
    # OUT-01 = 3 (1.0), OUT-02 = 0 (0.0): v1 (weights 1, 1) -> 50.00; v2 (1, 3) -> 25.00.
    answers = {"OUT-01": 3, "OUT-02": 0}
    may = people.stored(record(answers=answers, interview_date="2026-05-31"))
    june = people.stored(record(answers=answers, interview_date="2026-06-01"))
    assert (may["methodology_version"], may["dimensions"]) == (1, {"output": 50.0})
    assert (june["methodology_version"], june["dimensions"]) == (2, {"output": 25.0})


def test_a_named_version_must_be_in_force_that_day(people):
    _publish_version_2(people)
    early = people.post(record(interview_date="2026-05-31", methodology_version=2))
    assert early.status_code == 422, early.get_json()
    assert "methodology_version" in early.get_json()["error"]["details"]["fields"]
    unknown = people.post(record(methodology_version=9))
    assert unknown.status_code == 422
    assert "methodology_version" in unknown.get_json()["error"]["details"]["fields"]
    named = people.post(record(interview_date="2026-06-02", methodology_version=2))
    assert named.status_code == 201, named.get_json()
    assert named.get_json()["methodology_version"] == 2

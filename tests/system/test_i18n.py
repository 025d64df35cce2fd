"""Error messages in Indonesian for readers who ask for it (Accept-Language), English otherwise."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from fieldcheck.i18n import has_translation, translate
from tests.helpers import auth, post_json
from tests.world import make_world

ROOT = Path(__file__).resolve().parents[2]
INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"}
#: Texts in the code that look like messages but are not shown to a reader (none today; SQL
#: and texts already in Indonesian are recognised below).
NOT_ERROR_MESSAGES: set[str] = set()
SQL_WORDS = ("SELECT", "INSERT", "CREATE", "ALTER", "ANALYZE", "EXISTS", "NOT (", "DROP", "UPDATE")


def _template(node: ast.AST) -> str | None:
    """A string literal, or an f-string with ``{}`` for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _messages() -> dict[str, str]:
    """Every message-like text (a sentence: capitalised or opening with a value, spaces, final
    stop) in the service's
    request-serving code, by where it is; docstrings, CLI help, the pure core (Indonesian
    findings) and demo data are not error messages."""
    found: dict[str, str] = {}
    for path in sorted(
        [*ROOT.joinpath("fieldcheck").rglob("*.py"), *ROOT.joinpath("schemas").rglob("*.py")]
    ):
        relative = path.relative_to(ROOT)
        if path.name in ("cli.py", "i18n.py") or {"core", "demo"} & set(relative.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                skip.add(id(body[0].value))  # a docstring
            if isinstance(node, ast.JoinedStr):
                skip.update(id(v) for v in node.values)
            if isinstance(node, ast.keyword) and node.arg == "help":
                skip.add(id(node.value))
        for node in ast.walk(tree):
            text = None if id(node) in skip else _template(node)
            if (
                text
                and (text[:1].isupper() or text.startswith("{}"))
                and " " in text
                and "\n" not in text
                and text.rstrip().endswith((".", "?"))
                and not text.startswith(SQL_WORDS)
                and " Anda" not in text  # already Indonesian (flags)
                and text not in NOT_ERROR_MESSAGES
            ):
                found.setdefault(text, f"{relative}:{node.lineno}")
    return found


def test_every_message_in_the_code_has_an_indonesian_text():
    messages = _messages()
    assert len(messages) > 100  # the scan finds the messages (it would pass vacuously otherwise)
    missing = {
        where: text
        for text, where in messages.items()
        if not has_translation(text.replace("{}", "7"))
    }
    assert not missing, f"add these to fieldcheck.i18n.INDONESIAN: {missing}"


def _marshmallow_messages() -> list[str]:
    """marshmallow's own messages, rendered as a field or validator renders them."""
    values = {
        "obj_type": "datetime",
        "awareness": "aware",
        "input": "x",
        "choices": "a, b",
        "values": "a, b",
        "min": 1,
        "max": 9,
        "equal": 3,
        "other": 3,
    }
    texts = list(Schema._default_error_messages.values())
    for _, cls in inspect.getmembers(fields, inspect.isclass):
        if issubclass(cls, fields.Field):
            texts.extend(m.format(**values) for m in cls.default_error_messages.values())
    validators = [
        (validate.Range(1, 9), 0),
        (validate.Range(1, 9, min_inclusive=False, max_inclusive=False), 0),
        (validate.Range(1, 9, max_inclusive=False), 0),
        (validate.Range(1, 9, min_inclusive=False), 0),
        (validate.Range(1), 0),
        (validate.Range(1, min_inclusive=False), 0),
        (validate.Range(max=9), 10),
        (validate.Range(max=9, max_inclusive=False), 10),
        (validate.Length(1, 9), ""),
        (validate.Length(1), ""),
        (validate.Length(max=1), "ab"),
        (validate.Length(equal=3), ""),
        (validate.OneOf(["a", "b"]), "c"),
        (validate.Regexp("x"), "y"),
        (validate.Equal(3), 4),
        (validate.ContainsOnly(["a"]), ["b"]),
        (validate.ContainsNoneOf(["a"]), ["a"]),
    ]
    for validator, bad in validators:
        with pytest.raises(ValidationError) as raised:
            validator(bad)
        texts.extend(raised.value.messages)
    return [t for t in texts if t]


def test_marshmallow_messages_have_an_indonesian_text():
    missing = [text for text in _marshmallow_messages() if not has_translation(text)]
    assert not missing, missing


def test_values_in_a_message_are_carried_over():
    assert translate("The 2099 period has not begun (now: 2026).", "id") == (
        "Periode 2099 belum dimulai (sekarang: 2026)."
    )
    # A more specific template wins over a shorter one that also matches.
    assert translate("Must be one of: merah, kuning, hijau.", "id") == (
        "Harus salah satu dari: merah, kuning, hijau."
    )
    assert translate("skipped: another run holds the lease (run #12)", "id") == (
        "dilewati: proses penzonaan lain sedang berjalan (proses #12)"
    )
    # Values that are themselves known texts or state words are translated inside the message.
    assert translate("The body is not acceptable JSON: duplicate key 'a'.", "id") == (
        "Isi permintaan bukan JSON yang dapat diterima: kunci ganda 'a'."
    )
    assert translate("The body is not valid JSON: Expecting value at line 1 column 2.", "id") == (
        "Isi permintaan bukan JSON yang sah: diharapkan sebuah nilai pada baris 1 kolom 2."
    )
    assert translate("This objection was already decided: dismissed.", "id") == (
        "Keberatan ini sudah diputuskan: tidak dikabulkan (dismissed)."
    )
    assert translate("No such unit.", "en") == "No such unit."
    assert translate("A text nobody translated.", "id") == "A text nobody translated."


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def test_errors_follow_accept_language(world):
    token = world.token("supervisor")
    english = world.client.get("/api/v1/units/NOPE", headers=auth(token))
    assert english.get_json()["error"]["message"] == "No such unit."
    assert english.headers["Content-Language"] == "en"
    assert "Accept-Language" in english.headers["Vary"]
    indonesian = world.client.get("/api/v1/units/NOPE", headers={**auth(token), **INDONESIAN})
    assert indonesian.status_code == 404
    assert indonesian.get_json()["error"] == {
        "code": "not_found",  # codes never change with the language
        "message": "Unit tidak ditemukan.",
        "details": {},
    }
    assert indonesian.headers["Content-Language"] == "id"
    prefers_english = world.client.get(
        "/api/v1/units/NOPE",
        headers={**auth(token), "Accept-Language": "en-US,en;q=0.9,id;q=0.5"},
    )
    assert prefers_english.get_json()["error"]["message"] == "No such unit."
    # Errors werkzeug raises (405) and authentication errors go the same way.
    assert world.client.delete("/api/v1/units", headers=INDONESIAN).get_json()["error"][
        "message"
    ] == ("Metode ini tidak diizinkan di sini.")
    assert world.client.get("/api/v1/units", headers=INDONESIAN).get_json()["error"]["message"] == (
        "Diperlukan token bearer yang sah."
    )


def test_field_messages_are_translated_and_paths_kept(world):
    body = world.factory.submission()
    del body["unit_code"]
    body["answers"]["SP-01"] = {"value": "maybe"}
    response = world.client.post(
        "/api/v1/inspections",
        data=json.dumps(body),
        content_type="application/json",
        headers={**auth(world.token("surveyor")), **INDONESIAN},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == "Format permintaan benar, tetapi isinya tidak sah."
    assert error["details"]["fields"]["unit_code"] == ["Wajib diisi."]
    assert all(
        message != "Missing data for required field."
        for messages in error["details"]["fields"].values()
        for message in messages
    )
    override = world.client.post(
        "/api/v1/units/35.15-DUKCAPIL/override",
        data=json.dumps({"zone": "ungu", "reason": "x", "period": 1999}),
        content_type="application/json",
        headers={**auth(world.token("supervisor")), **INDONESIAN},
    )
    assert override.get_json()["error"]["details"]["fields"] == {
        "period": ["Harus lebih dari atau sama dengan 2000 dan kurang dari atau sama dengan 2100."],
        "zone": ["Harus salah satu dari: merah, kuning, hijau."],
    }


def test_bulk_review_item_messages_follow_the_language(world):
    response = world.client.post(
        "/api/v1/inspections/bulk-review",
        data=json.dumps({"ids": [999_999], "decision": "approve"}),
        content_type="application/json",
        headers={**auth(world.token("supervisor")), **INDONESIAN},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"][0]["error"]["message"] == (
        "Inspeksi tidak ditemukan dalam filter ini."
    )
    english = post_json(
        world.client,
        "/api/v1/inspections/bulk-review",
        {"ids": [999_999], "decision": "approve"},
        world.token("supervisor"),
    )
    assert (
        english.get_json()["items"][0]["error"]["message"]
        == "No such inspection within the filter."
    )


def test_bulk_review_reports_blockers_as_a_single_review_does(world):
    """A bulk approval blocked by missing evidence says so with the catalogue's message in the
    reader's language and the blockers listed, as ``details.blockers`` of a single review."""
    body = world.factory.all_yes_submission("35.15-DUKCAPIL")  # photos never sent
    inspection = post_json(world.client, "/api/v1/inspections", body, world.token("surveyor"))
    ids = [inspection.get_json()["id"]]
    single = world.review(ids[0], "approve").get_json()["error"]
    for headers, message in (
        ({}, single["message"]),
        (INDONESIAN, "Inspeksi belum dapat disetujui."),
    ):
        response = world.client.post(
            "/api/v1/inspections/bulk-review",
            data=json.dumps({"ids": ids, "decision": "approve"}),
            content_type="application/json",
            headers={**auth(world.token("supervisor")), **headers},
        )
        error = response.get_json()["items"][0]["error"]
        assert (error["code"], error["message"]) == ("review_blocked", message)
        assert error["blockers"] == single["details"]["blockers"]
        assert "Accept-Language" in response.headers["Vary"]

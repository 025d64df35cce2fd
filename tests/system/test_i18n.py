"""Words people read come from the gettext catalogues, in the reader's language.

Two kinds of test: the catalogue itself (every msgid has an Indonesian text, the catalogue is
not stale against the code, no message in the code bypasses it), and what a reader gets over
HTTP (errors, findings and flags in Indonesian or English; codes and paths never change).
"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.i18n import TRANSLATIONS, render, translations
from fieldcheck.inspections.models import FindingRow, Inspection
from schemas.common import FIELD_MESSAGES, VALIDATOR_MESSAGES
from tests.helpers import auth, post_json
from tests.world import make_world

ROOT = Path(__file__).resolve().parents[2]
INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9,id;q=0.5"}
#: The OpenAPI document's texts (summaries, examples) are English labels for integrators, not
#: messages a reader of the service gets: they stay out of the catalogue.
OPENAPI = "fieldcheck/openapi/"
SQL_WORDS = ("SELECT", "INSERT", "CREATE", "ALTER", "ANALYZE", "EXISTS", "NOT (", "DROP", "UPDATE")


def _po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def _extracted() -> set[str]:
    """The msgids pybabel finds in the code today (babel.cfg, keywords as in the Makefile)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "N_": None}
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }


# --- the catalogue ------------------------------------------------------------------------------


def test_every_msgid_has_an_indonesian_text():
    catalogue = _po("id")
    ids = [m.id for m in catalogue if m.id]
    assert len(ids) > 150  # the catalogue holds the service's messages
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not untranslated, f"translate these in id/LC_MESSAGES/messages.po: {untranslated}"
    assert not fuzzy, f"check these fuzzy translations and drop the flag: {fuzzy}"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_catalogue_is_not_stale_against_the_code(locale):
    """Run ``make translations`` when this fails: a message was added, changed or removed."""
    in_code = _extracted()
    in_po = {m.id for m in _po(locale) if m.id}
    assert not in_code - in_po, f"msgids missing from {locale}/messages.po: {in_code - in_po}"
    assert not in_po - in_code, f"msgids no longer in the code: {in_po - in_code}"


def test_translations_keep_every_placeholder():
    for message in _po("id"):
        if message.id and message.string and "%(" in message.id:
            names = sorted(part.split(")")[0] for part in message.id.split("%(")[1:])
            got = sorted(part.split(")")[0] for part in message.string.split("%(")[1:])
            assert got == names, (message.id, message.string)


def test_compiled_catalogue_is_current():
    """The .mo the service reads holds what the .po says (``make`` compiles it)."""
    compiled = translations("id")
    stale = [m.id for m in _po("id") if m.id and compiled.ugettext(m.id) != m.string]
    assert not stale, f"run make compile-translations: {stale[:5]}"


def _template(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _service_sources() -> list[tuple[str, str]]:
    """(path, source) of the service's code whose sentences a reader may get."""
    paths = [*ROOT.joinpath("fieldcheck").rglob("*.py"), *ROOT.joinpath("schemas").rglob("*.py")]
    sources = []
    for path in sorted(paths):
        relative = path.relative_to(ROOT).as_posix()
        if path.name == "cli.py" or "/demo/" in relative or relative.startswith(OPENAPI):
            continue
        if relative.startswith("fieldcheck/client/"):
            continue  # fieldcheck-sync: a command line tool installed without the server (English)
        sources.append((relative, path.read_text(encoding="utf-8")))
    return sources


def _bare_messages(sources: list[tuple[str, str]]) -> dict[str, str]:
    """Sentences (capitalised, with spaces, a final stop) that are not the argument of
    ``_``/``N_``: texts a reader would get without a translation. Docstrings, CLI help and
    demo data are not messages."""
    found: dict[str, str] = {}
    for relative, source in sources:
        tree = ast.parse(source)
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                skip.add(id(body[0].value))  # a docstring
            if isinstance(node, ast.JoinedStr):
                skip.update(id(v) for v in node.values)
            if isinstance(node, ast.keyword) and node.arg == "help":
                skip.add(id(node.value))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "N_"):
                skip.update(id(a) for a in node.args)
        for node in ast.walk(tree):
            text = None if id(node) in skip else _template(node)
            if (
                text
                and (text[:1].isupper() or text.startswith("{}"))
                and " " in text
                and "\n" not in text
                and text.rstrip().endswith((".", "?"))
                and not text.startswith(SQL_WORDS)
            ):
                found.setdefault(text, f"{relative}:{node.lineno}")
    return found


def test_no_message_bypasses_the_catalogue():
    bare = _bare_messages(_service_sources())
    assert not bare, f"wrap these in _() or N_() and run make translations: {bare}"


def test_the_scan_finds_a_bare_message():
    """The scan above would pass vacuously if it saw nothing: it sees an unwrapped text, with
    or without values, and lets a wrapped one and a docstring through."""
    source = (
        '"""A module."""\n'
        'raise ApiError("not_found", "No such thing here.")\n'
        'raise ApiError("conflict", f"Run {run_id} is busy.")\n'
        'raise ApiError("not_found", N_("Wrapped one."))\n'
        'raise ApiError("conflict", _("Run %(id)s is busy.", id=run_id))\n'
    )
    assert set(_bare_messages([("example.py", source)])) == {
        "No such thing here.",
        "Run {} is busy.",
    }


# --- marshmallow's own messages -----------------------------------------------------------------


def _marshmallow_cases():
    """Every default message of the fields and validators, rendered as marshmallow renders it."""
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
    for cls, messages in FIELD_MESSAGES.items():
        for key, message in messages.items():
            yield f"{cls.__name__}.{key}", lambda m=message: m.format(**values)
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

    def run(validator, bad):
        with pytest.raises(ValidationError) as raised:
            validator(bad)
        (message,) = raised.value.messages
        return message

    for validator, bad in validators:
        yield repr(validator), lambda v=validator, b=bad: run(v, b)


def test_marshmallow_messages_come_from_the_catalogue(app):
    """Each default message of marshmallow in use is a msgid with an Indonesian text."""
    for cls in (fields.Field, *VALIDATOR_MESSAGES):
        assert cls in FIELD_MESSAGES or cls in VALIDATOR_MESSAGES
    classes = {c for _, c in inspect.getmembers(fields, inspect.isclass)}
    own = {c for c in classes if "default_error_messages" in vars(c)}
    assert own <= set(FIELD_MESSAGES), own - set(FIELD_MESSAGES)
    for name, render_message in _marshmallow_cases():
        with app.test_request_context(headers=ENGLISH):
            english = render_message()
        with app.test_request_context(headers=INDONESIAN):
            indonesian = render_message()
        assert english != indonesian, f"{name}: {english!r} has no Indonesian text"
        assert "%(" not in indonesian and "{" not in indonesian, (name, indonesian)


# --- what a reader gets -------------------------------------------------------------------------


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
    prefers_english = world.client.get("/api/v1/units/NOPE", headers={**auth(token), **ENGLISH})
    assert prefers_english.get_json()["error"]["message"] == "No such unit."
    # Errors werkzeug raises (405) and authentication errors go the same way.
    assert world.client.delete("/api/v1/units", headers=INDONESIAN).get_json()["error"][
        "message"
    ] == ("Metode ini tidak diizinkan di sini.")
    assert world.client.get("/api/v1/units", headers=INDONESIAN).get_json()["error"]["message"] == (
        "Diperlukan token bearer yang sah."
    )


@pytest.mark.parametrize(
    "headers, expected",
    [
        (INDONESIAN, "Metodologi ombudsman-2019 tidak berlaku pada 20 November 2014."),
        (ENGLISH, "Methodology ombudsman-2019 was not in effect on November 20, 2014."),
    ],
)
def test_intake_messages_with_values_are_translated_and_dates_formatted(world, headers, expected):
    body = world.factory.submission(
        started_at="2014-11-20T09:12:00+07:00", finished_at="2014-11-20T09:41:00+07:00"
    )
    response = world.client.post(
        "/api/v1/inspections",
        data=json.dumps(body),
        content_type="application/json",
        headers={**auth(world.token("surveyor")), **headers},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"]["methodology"] == [expected]


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
    english = world.client.post(
        "/api/v1/units/35.15-DUKCAPIL/override",
        data=json.dumps({"zone": "ungu", "reason": "x", "period": 1999}),
        content_type="application/json",
        headers=auth(world.token("supervisor")),
    )
    assert english.get_json()["error"]["details"]["fields"] == {
        "period": ["Must be greater than or equal to 2000 and less than or equal to 2100."],
        "zone": ["Must be one of: merah, kuning, hijau."],
    }


@pytest.mark.parametrize(
    ("body", "indonesian", "english"),
    [
        (
            "{",
            "Isi permintaan bukan JSON yang sah: diharapkan nama properti dalam tanda kutip "
            "ganda pada baris 1 kolom 2.",
            "The body is not valid JSON: Expecting property name enclosed in double quotes at "
            "line 1 column 2.",
        ),
        (
            '{"a": 1, "a": 2}',
            "Isi permintaan bukan JSON yang dapat diterima: kunci ganda 'a'.",
            "The body is not acceptable JSON: duplicate key 'a'.",
        ),
        (
            '{"a": NaN}',
            "Isi permintaan bukan JSON yang dapat diterima: NaN tidak diizinkan dalam JSON.",
            "The body is not acceptable JSON: NaN is not allowed in JSON.",
        ),
    ],
)
def test_values_inside_a_message_are_translated_too(world, body, indonesian, english):
    """The parser's reason inside a message is a msgid of its own, rendered in the same language."""
    for headers, expected in ((INDONESIAN, indonesian), ({}, english)):
        response = world.client.post(
            "/api/v1/inspections",
            data=body,
            content_type="application/json",
            headers={**auth(world.token("surveyor")), **headers},
        )
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "malformed_json"
        assert response.get_json()["error"]["message"] == expected


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
    for headers, message in (
        ({}, "The inspection cannot be approved yet."),
        (INDONESIAN, "Inspeksi belum dapat disetujui."),
    ):
        single = world.client.post(
            f"/api/v1/inspections/{ids[0]}/review",
            data=json.dumps({"decision": "approve"}),
            content_type="application/json",
            headers={**auth(world.token("supervisor")), **headers},
        ).get_json()["error"]
        assert single["message"] == message
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


def _fee_finding(world) -> tuple[int, dict]:
    inspection = world.post_with_findings()
    (fee,) = [f for f in inspection["findings"] if f["rule"] == "fee.above_legal"]
    return inspection["id"], fee


def _read_fee(world, inspection_id: int, headers: dict):
    response = world.client.get(
        f"/api/v1/inspections/{inspection_id}",
        headers={**auth(world.token("supervisor")), **headers},
    )
    assert response.status_code == 200
    (fee,) = [f for f in response.get_json()["findings"] if f["rule"] == "fee.above_legal"]
    return response, fee


def test_a_stored_finding_is_rendered_in_the_readers_language(world, app):
    """A finding stored as a msgid and params reads in Indonesian or English, amounts written
    as each reader writes them; nothing else about it changes with the language."""
    inspection_id, _ = _fee_finding(world)
    with app.app_context():
        row = db.session.execute(
            select(FindingRow).where(
                FindingRow.inspection_id == inspection_id, FindingRow.rule == "fee.above_legal"
            )
        ).scalar_one()
        # What intake stores once it passes the finding's params (phase 2 of issue 12).
        row.message = (
            "The fee displayed for the service %(service)s is %(fee_idr)s, although the service "
            "is free of charge under %(citation)s."
        )
        row.params = {"service": "KTP-el", "fee_idr": 25000, "citation": "UU 24/2013 Pasal 79A"}
        db.session.commit()
    indonesian_response, indonesian = _read_fee(world, inspection_id, INDONESIAN)
    english_response, english = _read_fee(world, inspection_id, ENGLISH)
    assert indonesian["message"] == (
        "Biaya layanan KTP-el yang terpampang Rp25.000, padahal layanan ini tidak dipungut "
        "biaya (gratis) menurut UU 24/2013 Pasal 79A."
    )
    assert english["message"] == (
        "The fee displayed for the service KTP-el is IDR25,000, although the service is free "
        "of charge under UU 24/2013 Pasal 79A."
    )
    assert {k: v for k, v in indonesian.items() if k != "message"} == {
        k: v for k, v in english.items() if k != "message"
    }
    assert (
        indonesian_response.headers["Content-Language"],
        english_response.headers["Content-Language"],
    ) == ("id", "en")
    assert "Accept-Language" in english_response.headers["Vary"]
    # Without a language, findings read in Indonesian, as they always did (docs/api.md).
    _, default = _read_fee(world, inspection_id, {})
    assert default["message"] == indonesian["message"]


def test_a_finding_stored_as_text_before_the_catalogues_is_shown_as_stored(world, app):
    inspection_id, _ = _fee_finding(world)
    text = "Biaya layanan KTP-el yang terpampang Rp25.000, padahal layanan ini gratis."
    with app.app_context():
        row = db.session.execute(
            select(FindingRow).where(
                FindingRow.inspection_id == inspection_id, FindingRow.rule == "fee.above_legal"
            )
        ).scalar_one()
        row.message, row.params = text, None  # a row written before migration 0008
        db.session.commit()
    for headers in (INDONESIAN, ENGLISH):
        assert _read_fee(world, inspection_id, headers)[1]["message"] == text


def test_intake_findings_come_back_in_both_languages(world):
    inspection_id, _ = _fee_finding(world)
    _, indonesian = _read_fee(world, inspection_id, INDONESIAN)
    _, english = _read_fee(world, inspection_id, ENGLISH)
    assert "Rp25.000" in indonesian["message"] and "gratis" in indonesian["message"]
    assert "IDR25,000" in english["message"] and "free of charge" in english["message"]


def test_a_flag_is_rendered_in_the_readers_language(world):
    inspection = world.post(location=None)
    url = f"/api/v1/inspections/{inspection['id']}"
    token = world.token("supervisor")
    texts = {}
    for name, headers in (("id", INDONESIAN), ("en", ENGLISH), ("none", {})):
        response = world.client.get(url, headers={**auth(token), **headers})
        (flag,) = [f for f in response.get_json()["flags"] if f["code"] == "gps_missing"]
        assert set(flag) == {"code", "severity", "message", "details"}
        texts[name] = flag["message"]
    assert texts == {
        "id": "Lokasi GPS tidak dikirim bersama kunjungan.",
        "en": "The visit was sent without a GPS location.",
        "none": "Lokasi GPS tidak dikirim bersama kunjungan.",
    }
    listed = world.client.get(
        "/api/v1/inspections?flag=gps_missing", headers={**auth(token), **ENGLISH}
    ).get_json()["items"]
    assert "The visit was sent without a GPS location." in [
        f["message"] for item in listed for f in item["flags"]
    ]


def test_numbers_and_distances_follow_the_locale():
    message = "The visit was %(distance_m)s from the service unit (limit %(limit_m)s)."
    params = {"distance_m": 1_543_210, "limit_m": 300}
    assert render(message, params, "id") == (
        "Lokasi kunjungan 1.543,2 km dari unit layanan (batas 300 m)."
    )
    assert render(message, params, "en") == (
        "The visit was 1,543.2 km from the service unit (limit 300 m)."
    )
    late = "Data received %(days)s days after the visit (limit %(limit_days)s days)."
    assert render(late, {"days": 81.25, "limit_days": 7.0}, "id") == (
        "Data diterima 81,25 hari setelah kunjungan (batas 7 hari)."
    )


def test_blockers_are_rendered_in_the_readers_language(world):
    body = world.factory.all_yes_submission("35.15-DUKCAPIL")  # photos never sent
    inspection = post_json(world.client, "/api/v1/inspections", body, world.token("surveyor"))
    response = world.client.post(
        "/api/v1/inspections/bulk-review",
        data=json.dumps({"ids": [inspection.get_json()["id"]], "decision": "approve"}),
        content_type="application/json",
        headers={**auth(world.token("supervisor")), **INDONESIAN},
    )
    blockers = response.get_json()["items"][0]["error"]["blockers"]
    assert blockers and all("dijawab 'ya'" in b and "%(" not in b for b in blockers)


def _notes(world, inspection_id: int, headers: dict[str, str]) -> dict[str, str]:
    response = world.client.get(
        f"/api/v1/inspections/{inspection_id}",
        headers={**auth(world.token("supervisor")), **headers},
    )
    assert response.status_code == 200
    return {i["code"]: i["note"] for i in response.get_json()["breakdown"]["indicators"]}


def test_score_notes_are_rendered_in_the_readers_language(world, factory):
    body = factory.submission()
    body["answers"]["SP-01"] = {"value": "na", "note": None, "photos": []}
    response = post_json(world.client, "/api/v1/inspections", body, world.token("surveyor"))
    assert response.status_code == 201, response.get_json()
    inspection_id = response.get_json()["id"]
    indonesian = _notes(world, inspection_id, INDONESIAN)
    english = _notes(world, inspection_id, ENGLISH)
    assert indonesian["SP-01"] == "Tidak berlaku (na)."
    assert english["SP-01"] == "Does not apply (na)."
    # No parameters leak out; a note-less indicator stays empty in both languages.
    assert set(indonesian) == set(english)
    assert all(not text or not text.startswith("%") for text in indonesian.values())


def test_a_breakdown_stored_before_its_notes_were_msgids_is_shown_as_stored(world, app):
    inspection_id = world.post_with_findings()["id"]
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        old = dict(inspection.breakdown)
        old["indicators"] = [
            {key: value for key, value in item.items() if key != "note_params"}
            | {"note": "tidak dijawab"}
            for item in old["indicators"]
        ]
        inspection.breakdown = old  # as written before the notes were catalogue msgids
        db.session.commit()
    for headers in (INDONESIAN, ENGLISH):
        assert set(_notes(world, inspection_id, headers).values()) == {"tidak dijawab"}

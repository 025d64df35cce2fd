"""XForms generated from the methodologies in force, through pyxform's own builder.

The form is an XLSForm "workbook" (survey, choices and settings rows, as a spreadsheet would hold
them) built from the methodology data and converted by ``pyxform.xls2xform.convert``: no XML is
written by hand, and a form that pyxform accepts is one ODK Validate accepts (the tests run it).

The form is the same for every user; what differs per user (the units of their region and the
services each unit offers) comes as the media files ``units.csv`` and ``services.csv``
(``select_one_from_file``), so the form and its version stay stable while units change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyxform.xls2xform import convert

from fieldcheck.core.model import DELIVERY_COMPONENTS, Indicator, Instrument, Methodology
from fieldcheck.i18n import N_, translations
from fieldcheck.interviews.respondents import AGE_BANDS, GENDERS, NOTE_MAX, roles_for

#: The form id of a methodology's form: ``fieldcheck-<methodology id>``.
FORM_ID_PREFIX = "fieldcheck-"
#: The root element of the form's instance (and of every submission's XML).
INSTANCE_ROOT = "data"
#: Media files every form names (``select_one_from_file``).
UNITS_FILE = "units.csv"
SERVICES_FILE = "services.csv"
#: The agencies of the user's region, for an agency-level interview form.
AGENCIES_FILE = "agencies.csv"
#: Photos are scaled down on the phone to at most this many pixels on the longest side: enough
#: to read a notice board, and a tenth of a full camera photo to send over a weak signal.
PHOTO_MAX_PIXELS = 2048

#: The language of the forms: the methodologies' questions are written in Indonesian, and so is
#: every fixed label, from the catalogue (English msgids, as everywhere in fieldcheck).
FORM_LANGUAGE = "id"
#: Answer words of a yes_no indicator (fieldcheck.core.model.YES_NO_VALUES) as the phone shows
#: them. The value sent is the English code the JSON API takes.
YES_NO_LABELS = {
    "yes": N_("Yes"),
    "partial": N_("Partly"),
    "no": N_("No"),
    "na": N_("Not applicable"),
}
#: The six service-delivery components a surveyor checks per service, as the phone shows them.
COMPONENT_LABELS = {
    "persyaratan": N_("Requirements"),
    "prosedur": N_("System, mechanism and procedure"),
    "waktu": N_("Completion time"),
    "biaya": N_("Fee or tariff"),
    "produk": N_("Service product"),
    "pengaduan": N_("Handling of complaints, suggestions and feedback"),
}
NOT_APPLICABLE = "na"

#: Names of the form's fields (the submission parser reads the same names).
UNIT_FIELD = "unit"
LOCATION_FIELD = "lokasi"
NOTES_FIELD = "catatan"
SERVICE_REPEAT = "layanan"
SERVICE_CODE = "layanan_kode"
SERVICE_COMPONENTS = "layanan_komponen"
SERVICE_FEE = "layanan_biaya"
SERVICE_DAYS = "layanan_hari"
SERVICE_REQUIREMENTS = "layanan_persyaratan"
NOTE_SUFFIX = "_catatan"
PHOTO_SUFFIX = "_foto"
#: Names of the interview forms' own fields (fieldcheck.openrosa.interviews reads them).
AGENCY_FIELD = "instansi"
INTERVIEW_DATE_FIELD = "tanggal_wawancara"
ROLE_FIELD = "responden_peran"
GENDER_FIELD = "responden_jenis_kelamin"
AGE_FIELD = "responden_usia"
#: Respondent attribute codes as the phone shows them (fieldcheck.interviews.respondents).
ROLE_LABELS = {
    "pimpinan": N_("Head of the unit or agency"),
    "petugas_layanan": N_("Front-line service staff"),
    "petugas_lain": N_("Other staff"),
    "pengguna_langsung": N_("Service user"),
    "kuasa_pengguna": N_("Someone acting for a service user"),
    "pengelola_pengaduan": N_("Complaint handler"),
    "responden": N_("Respondent"),
}
GENDER_LABELS = {"L": N_("Male"), "P": N_("Female"), "tidak_disebut": N_("Not said")}
AGE_LABELS = {
    "17_24": N_("17-24 years"),
    "25_34": N_("25-34 years"),
    "35_44": N_("35-44 years"),
    "45_54": N_("45-54 years"),
    "55_up": N_("55 years or older"),
    "tidak_disebut": N_("Not said"),
}


@dataclass(frozen=True)
class Form:
    """One generated XForm: what the form list names and the XML a phone downloads."""

    form_id: str
    methodology_id: str
    methodology_version: int
    version: str
    title: str
    xml: str
    #: The interview instrument the form records, or None for the visit checklist.
    instrument: str | None = None
    #: The media files the form reads (``select_one_from_file``), listed in its manifest.
    media: tuple[str, ...] = (UNITS_FILE, SERVICES_FILE)

    @property
    def md5(self) -> str:
        """``md5:<hex>`` of the XForm, as the OpenRosa form list and Collect compare it."""
        return "md5:" + hashlib.md5(self.xml.encode("utf-8"), usedforsecurity=False).hexdigest()


def form_id(methodology: Methodology) -> str:
    """The XForm id of ``methodology``'s form."""
    return FORM_ID_PREFIX + methodology.id


def in_force(methodology: Methodology, on: date) -> bool:
    """A methodology gets a form while it is published and in effect on ``on``."""
    return methodology.status == "published" and methodology.in_effect(on)


def unit_indicators(methodology: Methodology) -> list[Indicator]:
    """The indicators a surveyor answers at a visit (service-scope ones come from the service
    repeat; interview questions belong to their instrument's interview, not to the visit)."""
    return [i for i in methodology.indicators if i.scope == "unit" and i.instrument is None]


def interview_form_id(methodology: Methodology, instrument: Instrument) -> str:
    """The XForm id of an instrument's interview form: ``fieldcheck-<methodology>-<code>``."""
    return f"{FORM_ID_PREFIX}{methodology.id}-{instrument.code}"


def _choice_list(indicator: Indicator, choices: list[dict[str, str]], made: set[str]) -> str:
    """The choice list an indicator's answers come from, added to ``choices`` once."""
    if not indicator.is_scale:
        return "jawaban"
    list_name = scale_list(indicator)
    if list_name not in made:
        made.add(list_name)
        _kind, low, high = indicator.answer  # type: ignore[misc]
        choices.extend(
            {"list_name": list_name, "name": str(n), "label": str(n)} for n in range(low, high + 1)
        )
        choices.append(
            {
                "list_name": list_name,
                "name": NOT_APPLICABLE,
                "label": label(YES_NO_LABELS[NOT_APPLICABLE]),
            }
        )
    return list_name


def interview_workbook(
    methodology: Methodology, instrument: Instrument
) -> dict[str, list[dict[str, str]]]:
    """The XLSForm rows of one instrument's interview form: what it is about (a unit or an
    agency of the user's region), the date, the respondent's coarse attributes (no name field:
    UU 27/2022), the instrument's questions, a short note."""
    if instrument.level == "unit":
        subject = {
            "type": f"select_one_from_file {UNITS_FILE}",
            "name": UNIT_FIELD,
            "label": label(N_("Unit where the interview took place")),
        }
    else:
        subject = {
            "type": f"select_one_from_file {AGENCIES_FILE}",
            "name": AGENCY_FIELD,
            "label": label(N_("Agency the interview is about")),
        }
    subject.update(
        {
            "hint": label(N_("Only the units and agencies of your region are listed.")),
            "required": "yes",
            "appearance": "autocomplete",
        }
    )
    survey: list[dict[str, str]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        subject,
        {
            "type": "date",
            "name": INTERVIEW_DATE_FIELD,
            "label": label(N_("Date of the interview")),
            "required": "yes",
            "constraint": ". <= today()",
        },
        {
            "type": "begin group",
            "name": "responden",
            "label": label(N_("Respondent (no name or identity is recorded)")),
        },
        {"type": "select_one peran", "name": ROLE_FIELD, "label": label(N_("Role"))},
        {"type": "select_one jenis_kelamin", "name": GENDER_FIELD, "label": label(N_("Gender"))},
        {"type": "select_one usia", "name": AGE_FIELD, "label": label(N_("Age band"))},
        {"type": "end group"},
    ]
    choices: list[dict[str, str]] = [
        {"list_name": "jawaban", "name": value, "label": label(text)}
        for value, text in YES_NO_LABELS.items()
    ]
    choices += [
        {"list_name": "peran", "name": code, "label": label(ROLE_LABELS.get(code, code))}
        for code in roles_for(instrument.code)
    ]
    choices += [
        {"list_name": "jenis_kelamin", "name": code, "label": label(GENDER_LABELS[code])}
        for code in GENDERS
    ]
    choices += [
        {"list_name": "usia", "name": code, "label": label(AGE_LABELS[code])} for code in AGE_BANDS
    ]
    made: set[str] = set()
    survey.append({"type": "begin group", "name": "pertanyaan", "label": instrument.name})
    for indicator in methodology.questions(instrument.code):
        survey.append(_question(indicator, _choice_list(indicator, choices, made)))
    survey.append({"type": "end group"})
    survey.append(
        {
            "type": "text",
            "name": NOTES_FIELD,
            "label": label(N_("Note on the interview")),
            "hint": label(
                N_("Circumstances only; never a name, address or telephone number (UU 27/2022).")
            ),
            "constraint": f"string-length(.) <= {NOTE_MAX}",
        }
    )
    settings = {
        "form_id": interview_form_id(methodology, instrument),
        "form_title": f"{methodology.title}: {instrument.name}",
    }
    return {"survey": survey, "choices": choices, "settings": [settings]}


def scale_list(indicator: Indicator) -> str:
    """The choice list of an ordinal indicator: ``skala_<low>_<high>``."""
    _kind, low, high = indicator.answer  # type: ignore[misc]
    return f"skala_{low}_{high}"


def label(msgid: str, **values: object) -> str:
    """A fixed label of the form, in the form's language."""
    text = translations(FORM_LANGUAGE).ugettext(msgid)
    return text % values if values else text


def workbook(methodology: Methodology) -> dict[str, list[dict[str, str]]]:
    """The XLSForm rows (survey, choices; settings without the version) of the methodology."""
    survey: list[dict[str, str]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {
            "type": f"select_one_from_file {UNITS_FILE}",
            "name": UNIT_FIELD,
            "label": label(N_("Unit visited")),
            "hint": label(N_("Only the units of your region are listed.")),
            "required": "yes",
            "appearance": "autocomplete",
        },
    ]
    choices: list[dict[str, str]] = [
        {"list_name": "jawaban", "name": value, "label": label(text)}
        for value, text in YES_NO_LABELS.items()
    ]
    scales: set[str] = set()
    by_dimension: dict[str, list[Indicator]] = {}
    for indicator in unit_indicators(methodology):
        by_dimension.setdefault(indicator.dimension, []).append(indicator)
    for dimension in methodology.dimensions:
        indicators = by_dimension.get(dimension.code)
        if not indicators:
            continue
        survey.append({"type": "begin group", "name": dimension.code, "label": dimension.name})
        for indicator in indicators:
            survey.append(_question(indicator, _choice_list(indicator, choices, scales)))
            survey.append(
                {
                    "type": "text",
                    "name": indicator.code + NOTE_SUFFIX,
                    "label": label(N_("Note on %(code)s (if any)"), code=indicator.code),
                }
            )
            if indicator.photo_required:
                survey.append(
                    {
                        "type": "image",
                        "name": indicator.code + PHOTO_SUFFIX,
                        "label": label(N_("Photo evidence for %(code)s"), code=indicator.code),
                        "hint": label(
                            N_(
                                "Needed for a Yes answer. Without a photo the inspection is "
                                "flagged as missing evidence."
                            )
                        ),
                        "relevant": f"${{{indicator.code}}} = 'yes'",
                        "parameters": f"max-pixels={PHOTO_MAX_PIXELS}",
                    }
                )
        survey.append({"type": "end group"})
    survey.extend(_service_repeat())
    choices.extend(
        {"list_name": "komponen", "name": code, "label": label(COMPONENT_LABELS[code])}
        for code in DELIVERY_COMPONENTS
    )
    survey.extend(
        [
            {
                "type": "geopoint",
                "name": LOCATION_FIELD,
                "label": label(N_("Your location at the unit")),
            },
            {"type": "text", "name": NOTES_FIELD, "label": label(N_("General notes on the visit"))},
        ]
    )
    settings = {"form_id": form_id(methodology), "form_title": methodology.title}
    return {"survey": survey, "choices": choices, "settings": [settings]}


def _question(indicator: Indicator, list_name: str) -> dict[str, str]:
    row = {
        "type": f"select_one {list_name}",
        "name": indicator.code,
        "label": f"{indicator.code}. {indicator.question}",
        "required": "yes",
    }
    if indicator.help:
        row["hint"] = indicator.help
    return row


def _service_repeat() -> list[dict[str, str]]:
    """A repeat per service observed: which service, the components its board shows, and the
    fee, days and requirements read off it (asked only when that component is shown). The
    first instance may stay empty: no service observed."""
    shown = f"selected(${{{SERVICE_COMPONENTS}}}, '%s')"
    return [
        {
            "type": "begin repeat",
            "name": SERVICE_REPEAT,
            "label": label(N_("Published service standard, per service observed")),
        },
        {
            "type": f"select_one_from_file {SERVICES_FILE}",
            "name": SERVICE_CODE,
            "label": label(N_("Service")),
            "hint": label(
                N_(
                    "Leave it empty when no service standard is posted at this unit, then "
                    "do not add another."
                )
            ),
            "choice_filter": f"unit=${{{UNIT_FIELD}}}",
            # Not simply required: Collect opens the repeat with one instance already there
            # (pyxform writes a jr:template and a first instance; JavaRosa keeps the latter),
            # and a surveyor who saw no posted standard must not have to invent a service. It
            # is required as soon as anything of the standard is recorded; an instance left
            # empty is dropped by the mapping (submission._posted_standards).
            "required": f"${{{SERVICE_COMPONENTS}}} != ''",
        },
        {
            "type": "select_multiple komponen",
            "name": SERVICE_COMPONENTS,
            "label": label(N_("Components of the standard seen published")),
        },
        {
            "type": "integer",
            "name": SERVICE_FEE,
            "label": label(N_("Fee shown (rupiah; 0 when free)")),
            "relevant": shown % "biaya",
            "constraint": ". >= 0",
        },
        {
            "type": "integer",
            "name": SERVICE_DAYS,
            "label": label(N_("Completion time shown (days)")),
            "relevant": shown % "waktu",
            "constraint": ". >= 0 and . <= 3650",
        },
        {
            "type": "text",
            "name": SERVICE_REQUIREMENTS,
            "label": label(N_("Requirements shown (one per line)")),
            "relevant": shown % "persyaratan",
            "appearance": "multiline",
        },
        {"type": "end repeat"},
    ]


def form_version(methodology: Methodology, rows: dict[str, Any]) -> str:
    """``<methodology version>.<hash>``: the hash covers the methodology's id, version and file
    hash and the generated rows, so a new methodology version (or a change in this generator)
    makes a new form version, and nothing else does."""
    digest = hashlib.sha256(
        json.dumps(
            [methodology.id, methodology.version, methodology.content_hash, rows],
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")
    ).hexdigest()
    return f"{methodology.version}.{digest[:12]}"


def same_methodology_version(sent: str | None, current: str) -> bool:
    """True when form version ``sent`` was made from the methodology version ``current`` was
    made from (the part before the dot; ``form_version``)."""
    return sent is not None and sent.split(".", 1)[0] == current.split(".", 1)[0]


#: (methodology id, version, file hash, instrument or None) -> its Form. A published methodology
#: never changes, and pyxform takes about a second per form: built once per process.
_FORMS: dict[tuple[str, int, str, str | None], Form] = {}


def build_form(methodology: Methodology, instrument: Instrument | None = None) -> Form:
    """The methodology's visit checklist XForm, or its interview form for ``instrument``
    (built once per process)."""
    code = None if instrument is None else instrument.code
    key = (methodology.id, methodology.version, methodology.content_hash, code)
    form = _FORMS.get(key)
    if form is None:
        if instrument is None:
            rows = workbook(methodology)
            media = (UNITS_FILE, SERVICES_FILE)
        else:
            rows = interview_workbook(methodology, instrument)
            media = (UNITS_FILE,) if instrument.level == "unit" else (AGENCIES_FILE,)
        version = form_version(methodology, rows)
        rows["settings"][0]["version"] = version
        result = convert(rows, form_name=INSTANCE_ROOT, pretty_print=True, warnings=[])
        form = Form(
            form_id=rows["settings"][0]["form_id"],
            methodology_id=methodology.id,
            methodology_version=methodology.version,
            version=version,
            title=rows["settings"][0]["form_title"],
            xml=result.xform,
            instrument=code,
            media=media,
        )
        _FORMS[key] = form
    return form


def all_forms(methodology: Methodology) -> list[Form]:
    """The methodology's forms: the visit checklist (when it observes anything) and one
    interview form per instrument."""
    forms = [build_form(methodology)] if methodology.observed_indicators else []
    return forms + [build_form(methodology, i) for i in methodology.instruments]


def forms_in_force(methodologies: dict[str, Methodology], on: date) -> list[Form]:
    """The forms of the methodologies in force on ``on`` that observe something at a visit
    (kemenpanrb-skm-2017 only asks respondents: it has no visit form), by form id."""
    return sorted(
        (f for m in methodologies.values() if in_force(m, on) for f in all_forms(m)),
        key=lambda f: f.form_id,
    )

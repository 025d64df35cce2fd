"""Words people read, from the gettext catalogues in ``fieldcheck/translations`` (Flask-Babel).

Every message is written once, in English, as a gettext msgid with named placeholders
(``"No such unit."``, ``"Unknown indicator for methodology %(methodology)s."``); the Indonesian
text is its ``msgstr`` in ``translations/id/LC_MESSAGES/messages.po``. ``make translations``
extracts the msgids (``babel.cfg``) and updates the ``.po`` files; ``make`` compiles them to
``.mo`` at install. ``tests/system/test_i18n.py`` fails when a msgid has no Indonesian text or the
catalogue is stale against the code.

Three kinds of text, three ways to reach the catalogue:

- An error raised with values is rendered where it is raised, in the request's language:
  ``_("... %(name)s ...", name=value)`` (Flask-Babel's ``gettext``).
- A constant (the error catalogue, a marshmallow default message, a validator's ``error=``) is
  marked with ``N_``, which returns a ``Template``: the English msgid, rendered through the
  catalogue when it is formatted or when the one error handler ``localize``\\s it.
- A finding, an integrity flag or an evidence blocker is *stored* as a msgid plus parameters
  (the pure core marks its msgids with a no-op ``N_`` of its own) and ``render``\\ed when read,
  with numbers, rupiah, distances and dates formatted by Babel for the reader's locale.

Codes, field paths and every value a client matches on never depend on the language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time, get_timezone_gmt
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from flask import Flask, Response, g, has_request_context, request
from flask_babel import gettext

from fieldcheck.extensions import babel

__all__ = [
    "CONTENT_DEFAULT",
    "LANGUAGES",
    "N_",
    "Template",
    "_",
    "content_language",
    "format_param",
    "init_app",
    "localize",
    "localize_details",
    "render",
    "render_flags",
    "render_reason",
    "request_language",
    "select_locale",
    "state",
    "zone_name",
]

#: Languages answered, first = default for messages about the request (errors): a request without
#: ``Accept-Language`` gets the English the contract documents.
LANGUAGES = ("en", "id")
#: Findings and flags were written in Indonesian for everyone before they came from the
#: catalogue; a reader who states no language still gets them in Indonesian (docs/api.md).
CONTENT_DEFAULT = "id"
#: Where the compiled catalogues are (``translations/<locale>/LC_MESSAGES/messages.mo``).
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

_ = gettext


def N_(message: str) -> Template:  # noqa: N802 - the gettext convention pybabel looks for
    """Mark a constant msgid (extracted by pybabel); it is translated when it is shown."""
    return Template(message)


class Template(str):
    """An English msgid that renders through the catalogue in the reader's language.

    It is a ``str`` (equal to its msgid) so marshmallow, ``ApiError`` and JSON take it as
    they take any text; formatting it (``.format(**values)``, as marshmallow does with its
    messages) or ``localize``-ing it looks the msgid up in the request's language first.
    """

    __slots__ = ()

    def format(self, *args: Any, **values: Any) -> str:  # noqa: ARG002 - named placeholders only
        """The translated text with ``%(name)s`` placeholders filled from ``values``."""
        text = gettext(str(self))
        return text % values if "%(" in text else text


#: The states and decisions a message may name, as a reader says them; the Indonesian text keeps
#: the code beside the word, since clients and people search on it (``state("dismissed")``).
STATES = frozenset(
    (
        N_("received"),
        N_("approved"),
        N_("rejected"),
        N_("returned"),
        N_("approve"),
        N_("reject"),
        N_("return"),
        N_("pending"),
        N_("upheld"),
        N_("dismissed"),
        N_("queued"),
        N_("running"),
        N_("succeeded"),
        N_("failed"),
        N_("skipped"),
        N_("draft"),
        N_("retired"),
    )
)


def state(code: str) -> str:
    """A state or decision ``code`` named inside a message, in the request's language."""
    return gettext(code) if code in STATES else code


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (locale from ``Accept-Language``) and label answers whose findings or
    flags were rendered with ``Content-Language`` and ``Vary: Accept-Language``."""
    babel.init_app(app, default_locale=LANGUAGES[0], locale_selector=select_locale)

    @app.after_request
    def label_language(response: Response) -> Response:
        if g.get("content_rendered") and "Content-Language" not in response.headers:
            response.headers["Content-Language"] = content_language()
            response.vary.add("Accept-Language")
        return response


def select_locale() -> str | None:
    """Flask-Babel's locale selector: the best ``Accept-Language`` match among ``LANGUAGES``,
    or None (Flask-Babel's default, English) when the request names neither."""
    if not has_request_context():
        return None
    page = g.get("page_language")  # a web page: the language the person chose (fieldcheck.web)
    if page:
        return page
    # Asked for every finding and flag rendered (twenty times per intake): match the header once.
    if "accept_language_match" not in g:
        g.accept_language_match = request.accept_languages.best_match(LANGUAGES)
    return g.accept_language_match


def request_language() -> str:
    """The language of the request's messages (English outside a request or without a match)."""
    return select_locale() or LANGUAGES[0]


def content_language() -> str:
    """The language findings and flags are rendered in: the request's choice, else Indonesian."""
    return select_locale() or CONTENT_DEFAULT


def localize(message: Any) -> Any:
    """A message in the request's language: a msgid is looked up in the catalogue; a text that
    was already rendered (or is no msgid) comes back unchanged."""
    return gettext(str(message)) if isinstance(message, str) and message else message


def localize_details(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` with the messages under ``fields`` localized (paths and values unchanged)."""
    fields = details.get("fields")
    if not isinstance(fields, dict):
        return details
    return {**details, "fields": {path: _each(messages) for path, messages in fields.items()}}


def _each(messages: Any) -> Any:
    if isinstance(messages, str):
        return localize(messages)
    if isinstance(messages, Iterable) and not isinstance(messages, dict):
        return [localize(m) for m in messages]
    return messages


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of ``locale`` (English: the msgids themselves)."""
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def render(message: str, params: Mapping[str, Any] | None, locale: str | None = None) -> str:
    """A stored msgid with its parameters, in ``locale`` (default: ``content_language()``).

    ``params`` is None for what was stored as finished text before the catalogues (findings and
    flags written before migration 0008): that text is shown as it was stored.
    """
    if params is None:
        return message
    if locale is None:
        locale = content_language()
        if has_request_context():
            g.content_rendered = True  # the answer says which language it is in (init_app)
    text = translations(locale).ugettext(message)
    return text % {key: format_param(key, value, locale) for key, value in params.items()}


def render_reason(
    message: str | None, params: Mapping[str, Any] | None, locale: str | None = None
) -> str | None:
    """A zoning run's stored failure or skip reason in ``locale`` (default: the request's
    language, as for errors). A reason stored before migration 0009 has no params: a known
    msgid is still translated, any other text (an unexpected exception's) is shown as stored."""
    if message is None:
        return None
    locale = locale or request_language()
    if params is None:
        return translations(locale).ugettext(message)
    return render(message, params, locale)


def render_flags(flags: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Stored integrity flags as the API shows them: ``message`` rendered, ``params`` dropped."""
    return [
        {
            key: render(flag.get("message") or "", flag.get("params"))
            if key == "message"
            else value
            for key, value in flag.items()
            if key != "params"
        }
        for flag in flags or ()
    ]


def render_breakdown(breakdown: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored score breakdown as the API shows it: each indicator's ``note`` rendered,
    ``note_params`` dropped. A breakdown stored before its notes were msgids (no
    ``note_params``) keeps the text it was stored with."""
    if breakdown is None:
        return None
    indicators = []
    for item in breakdown.get("indicators", ()):
        shown = {key: value for key, value in item.items() if key != "note_params"}
        if item.get("note") and "note_params" in item:
            shown["note"] = render(item["note"], item["note_params"])
        indicators.append(shown)
    return {**breakdown, "indicators": indicators}


#: Indonesia's three time zones by UTC offset, named as Indonesians name them in any language.
_ZONES = {7.0: "WIB", 8.0: "WITA", 9.0: "WIT"}


def zone_name(moment: datetime) -> str | None:
    """WIB, WITA or WIT for an aware time in one of Indonesia's zones (None for another)."""
    offset = moment.utcoffset()
    return None if offset is None else _ZONES.get(offset.total_seconds() / 3600)


#: A date and a time together ("5 Desember 2026 pukul 09.12").
_AT = N_("%(date)s at %(time)s")


def format_param(key: str, value: Any, locale: str) -> str:
    """One parameter as a reader of ``locale`` writes it; the key's suffix says what it is:
    ``*_idr`` rupiah (``Rp25.000``), ``*_m`` a distance in metres (``850 m``, ``1,5 km``),
    ``*_on`` an ISO date (``5 Desember 2026``), ``*_at`` an ISO time with offset; any other
    float is a decimal (``81,25``); lists are joined with commas; the rest is shown as is."""
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(format_param(key, item, locale) for item in value)
    if key.endswith("_idr") and isinstance(value, int | float):
        return format_currency(value, "IDR", "¤#,##0", locale=locale, currency_digits=False)
    if key.endswith("_m") and isinstance(value, int | float):
        if value < 1000:
            return f"{format_decimal(round(value), locale=locale)} m"
        return f"{format_decimal(round(value / 1000, 1), locale=locale)} km"
    if key.endswith("_on") and isinstance(value, str | date):
        day = value if isinstance(value, date) else date.fromisoformat(value)
        return format_date(day, "long", locale=locale)
    if key.endswith("_at") and isinstance(value, str | datetime):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        zone = zone_name(moment)
        text = translations(locale).ugettext(_AT) % {
            "date": format_date(moment, "long", locale=locale),
            "time": format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale),
        }
        return f"{text} {zone or get_timezone_gmt(moment, locale=locale)}"
    if isinstance(value, float):
        return format_decimal(value, locale=locale)
    return str(value)

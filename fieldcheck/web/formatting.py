"""How pages write numbers, money, dates and times: Babel, in the page's language.

Times are shown in the unit's own zone (WIB, WITA or WIT: the region's ``timezone``), falling
back to ``DISPLAY_TIMEZONE``; the zone's name follows the time ("pukul 09.12 WITA").
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask import Flask, current_app
from flask_babel import get_locale
from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.i18n import format_param
from fieldcheck.regions.models import Region


def _locale() -> str:
    return str(get_locale() or "id")


@cache
def _zones() -> dict[str, str]:
    # 552 reference rows from the migration: read once per process.
    return dict(db.session.execute(select(Region.code, Region.timezone)).all())


def zone_of(region_code: str | None) -> str:
    """The IANA time zone of a region code (``35.15`` -> Asia/Jakarta), or the display zone."""
    if region_code:
        zones = _zones()
        for code in (region_code, region_code.split(".")[0]):
            if code in zones:
                return zones[code]
    return current_app.config["DISPLAY_TIMEZONE"]


def when(moment: datetime | str | None, region_code: str | None = None) -> str:
    """A UTC time as a reader writes it, in the region's zone: "5 Desember 2026 pukul 09.12 WIB"."""
    if moment is None or moment == "":
        return "–"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone_of(region_code)))
    return format_param("shown_at", local, _locale())


def day(value: date | str | None) -> str:
    """A date: "5 Desember 2026"."""
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "long", locale=_locale())


def number(value: Any, digits: int = 2) -> str:
    """A number with the locale's separators ("81,25"); "–" for none."""
    if value is None or value == "":
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def exact(value: Any) -> str:
    """A decimal as written, with the locale's separators and no rounding: a methodology's
    weight 15.295 reads "15,295" (with "." an Indonesian reader sees fifteen thousand), 30 "30"."""
    if value is None or value == "":
        return "–"
    return format_decimal(value, format="#,##0.##########", locale=_locale())


def rupiah(value: Any) -> str:
    """Rupiah: "Rp25.000"."""
    return format_param("amount_idr", value, _locale())


def percent(value: Any, digits: int = 0) -> str:
    """A share (0..1) as a percentage: "45 %"."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    return format_percent(value, format=pattern, locale=_locale())


def init_app(app: Flask) -> None:
    """Make the formatters Jinja filters."""
    app.jinja_env.filters.update(
        when=when, day=day, number=number, exact=exact, rupiah=rupiah, percent=percent
    )
    app.jinja_env.globals.update(zone_of=zone_of)

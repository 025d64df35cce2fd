"""Reading the versioned data files: where they live, and a reader that names file and field.

The files are data, not code: an admin replaces a methodology by adding a new version, and a new
regulation by adding a legal value with its validity dates. So everything is checked at start-up
(``catalogue.methodology`` and ``catalogue.legal`` use this reader), and a mistake stops the app
with a message naming the file and the field, instead of surfacing later as a wrong zone. Pure:
no Flask, no database, no clock.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from fieldcheck.core.messages import N_

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Scores are on 0..100 whatever the methodology; bands must cover exactly this range.
SCORE_MIN = Decimal(0)
SCORE_MAX = Decimal(100)


class CatalogueError(ValueError):
    """A data file is missing, unparsable or invalid.

    ``message`` is an English msgid with named placeholders and ``params`` its values (as the
    core's findings carry them), so a page can show the problem in the reader's language
    (``fieldcheck.i18n.render(err.message, err.params)``); ``file`` is the file and ``where`` the
    field path inside it (``indicators[3] (SP-01).weight``; empty for the whole file). ``str()``
    is a readable English sentence naming file and field, for start-up errors and logs.
    """

    def __init__(
        self,
        message: str,
        params: Mapping[str, Any] | None = None,
        *,
        file: str | Path | None = None,
        where: str = "",
    ):
        self.message = message
        self.params = dict(params or {})
        self.file = str(file) if file is not None else None
        self.where = where
        # Without params the message is finished text (nothing to substitute, "%" kept as is).
        text = message % self.params if self.params else message
        prefix = ": ".join(part for part in (self.file, where) if part)
        super().__init__(f"{prefix}: {text}" if prefix else text)


class CataloguePaths(NamedTuple):
    """Where the shipped data files live."""

    methodologies: Path
    legal_catalogue: Path


def default_paths() -> CataloguePaths:
    """Paths of the data files shipped in ``fieldcheck/catalogue/data``."""
    return CataloguePaths(
        methodologies=DATA_DIR / "methodologies",
        legal_catalogue=DATA_DIR / "legal" / "catalogue.toml",
    )


# --- reading helpers ---------------------------------------------------------------------------


class Reader:
    """Typed access to one file's tables, raising CatalogueError that names file and field."""

    def __init__(self, path: Path, raw: bytes | None = None, fmt: str = "toml"):
        #: ``path`` names the file in messages; ``raw`` (an upload) is read instead of it when
        #: given, in ``fmt`` ("toml" or "json": the same structure, dates as "YYYY-MM-DD").
        self.path = path
        self.raw = raw
        self.fmt = fmt

    def fail(self, where: str, message: str, **params: Any) -> CatalogueError:
        """The error for field ``where`` of this file: ``message`` is a msgid (``N_``) with
        ``params``, or finished English text for files no admin uploads (legal, zones)."""
        return CatalogueError(message, params, file=self.path, where=where)

    def load(self) -> tuple[dict[str, Any], str]:
        if self.raw is not None:
            return self._parsed(self.raw), hashlib.sha256(self.raw).hexdigest()
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise self.fail(
                "", N_("cannot read: %(reason)s"), reason=str(exc.strerror or exc)
            ) from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise self.fail("", N_("not valid TOML: %(reason)s"), reason=str(exc)) from exc
        return data, hashlib.sha256(raw).hexdigest()

    def _parsed(self, raw: bytes) -> dict[str, Any]:
        """An uploaded file's tables, parsed as its format says."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail("", N_("not UTF-8 text: %(reason)s"), reason=str(exc)) from exc
        if self.fmt == "json":
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise self.fail("", N_("not valid JSON: %(reason)s"), reason=str(exc)) from exc
            if not isinstance(data, dict):
                raise self.fail("", N_("expected a JSON object at the top"))
            return data
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise self.fail("", N_("not valid TOML: %(reason)s"), reason=str(exc)) from exc

    def keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        # Unknown keys are usually typos ("wieght"); silently ignoring them would drop data.
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail(where, N_("unknown field(s) %(fields)s"), fields=", ".join(unknown))

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        required: bool = True,
        default: Any = None,
    ) -> Any:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, _MISSING)
            return default
        value = table[key]
        # bool is an int subclass: `true` is never a number here.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise self.fail(field, _expected(kind), value=repr(value))
        if isinstance(value, str) and not value.strip() and required:
            raise self.fail(field, N_("must not be empty"))
        return value

    def text(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> str | None:
        return self.get(table, key, where, str, required)

    def tables(self, table: Mapping[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
        items = self.get(table, key, where, list, required=False, default=[])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", _expected(dict), value=repr(item))
        return items

    def date(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> date | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, _MISSING)
            return None
        value = table[key]
        if isinstance(value, datetime):  # a datetime is a date subclass; validity is by day
            raise self.fail(
                field,
                N_("expected a date (YYYY-MM-DD), got a date-time %(value)s"),
                value=str(value),
            )
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(field, N_("expected a date (YYYY-MM-DD), got %(value)s"), value=repr(value))

    def decimal(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> Decimal | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, _MISSING)
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(field, _NOT_A_NUMBER, value=repr(value))
        try:
            # str() of a TOML float gives its shortest repr (8.5 -> "8.5"), not binary noise.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(field, _NOT_A_NUMBER, value=repr(value)) from None
        if not number.is_finite():
            raise self.fail(field, N_("expected a finite number, got %(value)s"), value=repr(value))
        return number

    def unique(self, codes: Iterable[tuple[str, str]], message: str) -> None:
        """Refuse a repeated code; ``message`` is a msgid with ``%(value)s`` (the code) and
        ``%(first)s`` (where it first appears)."""
        seen: dict[str, str] = {}
        for code, where in codes:
            if code in seen:
                raise self.fail(where, message, value=repr(code), first=seen[code])
            seen[code] = where


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_MISSING = N_("missing")
_NOT_A_NUMBER = N_("expected a number, got %(value)s")

#: One whole msgid per expected kind (a translator cannot reorder glued fragments).
_EXPECTED = {
    (str,): N_("expected a string, got %(value)s"),
    (int,): N_("expected an integer, got %(value)s"),
    (bool,): N_("expected true/false, got %(value)s"),
    (list,): N_("expected a list, got %(value)s"),
    (dict,): N_("expected a table, got %(value)s"),
    (float,): _NOT_A_NUMBER,
    (str, dict): N_("expected a string or a table, got %(value)s"),
}


def _expected(kind: type | tuple[type, ...]) -> str:
    return _EXPECTED.get(_tuple(kind), N_("has the wrong type: %(value)s"))

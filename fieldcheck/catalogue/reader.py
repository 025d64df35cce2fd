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

# One definition of "the same spelling", shared with the checker that matches requirements.

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Scores are on 0..100 whatever the methodology; bands must cover exactly this range.
SCORE_MIN = Decimal(0)
SCORE_MAX = Decimal(100)


class CatalogueError(ValueError):
    """A data file is missing, unparsable or invalid; the message names the file and the field."""


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

    def fail(self, where: str, problem: str) -> CatalogueError:
        prefix = f"{self.path}: {where}" if where else str(self.path)
        return CatalogueError(f"{prefix}: {problem}")

    def load(self) -> tuple[dict[str, Any], str]:
        if self.raw is not None:
            return self._parsed(self.raw), hashlib.sha256(self.raw).hexdigest()
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CatalogueError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CatalogueError(f"{self.path}: not valid TOML: {exc}") from exc
        return data, hashlib.sha256(raw).hexdigest()

    def _parsed(self, raw: bytes) -> dict[str, Any]:
        """An uploaded file's tables, parsed as its format says."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogueError(f"{self.path}: not UTF-8 text: {exc}") from exc
        if self.fmt == "json":
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise CatalogueError(f"{self.path}: not valid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise CatalogueError(f"{self.path}: expected a JSON object at the top")
            return data
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{self.path}: not valid TOML: {exc}") from exc

    def keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        # Unknown keys are usually typos ("wieght"); silently ignoring them would drop data.
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(unknown)}")

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
                raise self.fail(field, "missing")
            return default
        value = table[key]
        # bool is an int subclass: `true` is never a number here.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise self.fail(field, f"expected {_kind_name(kind)}, got {value!r}")
        if isinstance(value, str) and not value.strip() and required:
            raise self.fail(field, "must not be empty")
        return value

    def text(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> str | None:
        return self.get(table, key, where, str, required)

    def tables(self, table: Mapping[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
        items = self.get(table, key, where, list, required=False, default=[])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", "expected a table")
        return items

    def date(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> date | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, "missing")
            return None
        value = table[key]
        if isinstance(value, datetime):  # a datetime is a date subclass; validity is by day
            raise self.fail(field, f"expected a date (YYYY-MM-DD), got a date-time {value}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(field, f"expected a date (YYYY-MM-DD), got {value!r}")

    def decimal(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> Decimal | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, "missing")
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(field, f"expected a number, got {value!r}")
        try:
            # str() of a TOML float gives its shortest repr (8.5 -> "8.5"), not binary noise.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(field, f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise self.fail(field, f"expected a finite number, got {value!r}")
        return number

    def unique(self, codes: Iterable[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for code, where in codes:
            if code in seen:
                raise self.fail(where, f"duplicate {what} {code!r} (first at {seen[code]})")
            seen[code] = where


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "true/false",
        list: "a list",
        dict: "a table",
        float: "a number",
    }
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))

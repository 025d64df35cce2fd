"""The loaded methodologies and legal catalogue, shared read-only by requests and jobs.

Files are read and validated once per process at start-up (a broken file stops the app with a
message naming it). A published methodology is immutable: its content hash is pinned in
``data/methodologies/published.lock.json`` and a changed file refuses to load; publish a new
version instead.

Issue 16: a methodology id has several versions, from the shipped files and from the versions
admins upload (table ``methodology_versions``). Each process keeps a snapshot (``Registry``) and
re-reads the table when it changed: a cheap generation check (each row's id, status, hash and
dates) at most every ``METHODOLOGY_CACHE_SECONDS``, at once after this process commits a
change, and on a miss (a version or hash it does not know yet). Parsed files are cached by content
hash, so a reload only parses what is new (docs/decisions.md, "Issue 16: methodology versions").
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from fieldcheck.catalogue import CatalogueError, load_legal_catalogue, load_methodology
from fieldcheck.catalogue.zones import shipped_zones
from fieldcheck.clock import utcnow
from fieldcheck.core.messages import N_
from fieldcheck.core.model import LegalCatalogue, Methodology, Zone

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
METHODOLOGY_DIR = DATA_DIR / "methodologies"
LEGAL_CATALOGUE_FILE = DATA_DIR / "legal" / "catalogue.toml"
PUBLISHED_LOCK = METHODOLOGY_DIR / "published.lock.json"
#: ``Session.info`` key a service sets when it changed ``methodology_versions``: after that
#: session commits, this process re-reads the table at the next ``get_registry()``.
CHANGED = "fieldcheck.methodologies_changed"
_EXTENSION = "fieldcheck.registry"
#: Shipped drafts (ombudsman-2025): not loaded unless named in EXTRA_METHODOLOGY_DIRS or uploaded.
METHODOLOGY_DRAFTS_DIR = METHODOLOGY_DIR / "drafts"


@dataclass(frozen=True)
class Registry:
    """Methodologies by id, the legal catalogue and the zone catalogue (worst first).

    ``methodologies`` holds each id's *default* version (``default_version``);
    ``all_versions`` every version, oldest first.
    """

    methodologies: dict[str, Methodology]
    catalogue: LegalCatalogue
    zones: tuple[Zone, ...] = ()
    all_versions: dict[str, tuple[Methodology, ...]] = field(default_factory=dict)
    #: Re-reads the uploaded versions and returns the new snapshot (None: a fixed registry).
    refresh: Callable[[], Registry] | None = field(default=None, compare=False, repr=False)

    #: The methodology used when none is named (setting DEFAULT_METHODOLOGY); None = the newest
    #: published one. Explicit because "newest" stopped being a good default once several schemes
    #: ship (ombudsman-2022 zones agencies from interviews; the KemenPANRB indexes are others').
    default_id: str | None = None

    def __post_init__(self) -> None:
        if not self.all_versions:
            versions = {key: (m,) for key, m in self.methodologies.items()}
            object.__setattr__(self, "all_versions", versions)

    @property
    def zone_codes(self) -> tuple[str, ...]:
        """Every known zone code, worst first."""
        return tuple(z.code for z in self.zones)

    def zone(self, code: str) -> Zone | None:
        """The catalogue entry of a zone code, or None."""
        return next((z for z in self.zones if z.code == code), None)

    def zones_of(self, methodology_id: str | None) -> tuple[str, ...]:
        """The zones a methodology's bands name, worst first; every known zone for an unknown
        methodology (a run of a methodology no longer shipped still shows its stored zones)."""
        methodology = self.methodology(methodology_id) if methodology_id else None
        return methodology.zones if methodology is not None else self.zone_codes

    def zones_in_use(self) -> tuple[str, ...]:
        """The zones some loaded methodology uses, in catalogue order: what pages list and
        filter by (a catalogue zone no methodology names would only be an empty column)."""
        used = {code for m in self.methodologies.values() for code in m.zones}
        return tuple(code for code in self.zone_codes if code in used)

    def methodology(self, methodology_id: str, version: int | None = None) -> Methodology | None:
        """The methodology with this id: exactly ``version`` (a draft too), or without one its
        default version (the one in force today); None when there is no such one."""
        if version is None:
            return self.methodologies.get(methodology_id)
        found = _find(self.versions(methodology_id), version)
        if found is None and self.refresh is not None:
            # Another process may have uploaded it a moment ago.
            found = _find(self.refresh().versions(methodology_id), version)
        return found

    def by_hash(self, content_hash: str) -> Methodology | None:
        """The version whose file has this sha256, or None."""
        found = _by_hash(self, content_hash)
        if found is None and self.refresh is not None:
            found = _by_hash(self.refresh(), content_hash)
        return found

    def versions(self, methodology_id: str) -> tuple[Methodology, ...]:
        """Every version of a methodology (drafts and retired ones too), oldest first."""
        return self.all_versions.get(methodology_id, ())

    def in_force(self, methodology_id: str, on: date) -> Methodology | None:
        """The published version a visit on ``on`` is scored with: the newest published
        version whose effective_from is on or before ``on`` and whose effective_to (if any) is
        not before it; a later version supersedes an earlier one from its effective_from."""
        return in_force(self.versions(methodology_id), on)


def _find(versions: Iterable[Methodology], version: int) -> Methodology | None:
    return next((m for m in versions if m.version == version), None)


def _by_hash(registry: Registry, content_hash: str) -> Methodology | None:
    for versions in registry.all_versions.values():
        for methodology in versions:
            if methodology.content_hash == content_hash:
                return methodology
    return None


def in_force(versions: Iterable[Methodology], on: date) -> Methodology | None:
    """Of ``versions``, the published one in force on ``on`` (see Registry.in_force)."""
    candidates = [m for m in versions if m.status == "published" and m.in_effect(on)]
    return max(candidates, key=lambda m: m.version, default=None)


def default_version(versions: tuple[Methodology, ...], today: date) -> Methodology | None:
    """What ``methodology(id)`` answers: the version in force today; else the newest published
    one (not yet or no longer in force: callers check the dates, as they always did); else, for
    an id that was never published (a shipped draft such as ombudsman-2025), its newest draft,
    so that a what-if can still name it by id. A draft of an id that has a published version is
    only ever used when named with its version."""
    chosen = in_force(versions, today)
    if chosen is not None:
        return chosen
    published = [m for m in versions if m.status == "published"]
    if published:
        return max(published, key=lambda m: m.version)
    drafts = [m for m in versions if m.status == "draft"]
    return max(drafts, key=lambda m: m.version, default=None)


def check_published_lock(methodologies: dict[str, Methodology], lock_path: Path) -> None:
    """Refuse a published methodology whose file changed since it was published."""
    lock = json.loads(lock_path.read_text(encoding="utf-8")) if lock_path.exists() else {}
    for methodology in methodologies.values():
        if methodology.status != "published":
            continue
        pinned = lock.get(methodology.id, {}).get(str(methodology.version))
        if pinned is not None and pinned != methodology.content_hash:
            raise CatalogueError(
                N_(
                    "methodology %(id)s version %(version)s is published and its file changed "
                    "(sha256 %(hash)s, published as %(pinned)s); a published methodology is "
                    "immutable: give the change a new version"
                ),
                {
                    "id": methodology.id,
                    "version": methodology.version,
                    "hash": methodology.content_hash,
                    "pinned": pinned,
                },
                file=lock_path,
            )


def load_shipped_versions(
    directories: list[Path], catalogue: LegalCatalogue, zones: tuple[Zone, ...]
) -> list[Methodology]:
    """Every ``*.toml`` methodology file of ``directories``: several versions of one id may be
    shipped, each (id, version) once."""
    found: dict[tuple[str, int], Path] = {}
    out = []
    for folder in directories:
        if not folder.is_dir():
            raise CatalogueError(f"{folder}: not a directory")
        loaded = []
        for path in sorted(folder.glob("*.toml")):
            m = load_methodology(path, catalogue, zones)
            key = (m.id, m.version)
            if key in found:
                raise CatalogueError(
                    f"{path}: version: duplicate methodology id {m.id!r} version {m.version} "
                    f"(also in {found[key]})"
                )
            found[key] = path
            loaded.append(m)
        check_published_lock(
            {f"{m.id}@{m.version}": m for m in loaded}, folder / PUBLISHED_LOCK.name
        )
        out.extend(loaded)
    return out


def build_registry(
    versions: Iterable[Methodology],
    catalogue: LegalCatalogue,
    zones: tuple[Zone, ...],
    today: date,
    refresh: Callable[[], Registry] | None = None,
    default_id: str | None = None,
) -> Registry:
    """A snapshot over these versions, each id's default chosen for ``today``."""
    by_id: dict[str, list[Methodology]] = {}
    for m in versions:
        by_id.setdefault(m.id, []).append(m)
    all_versions = {
        key: tuple(sorted(ms, key=lambda m: m.version)) for key, ms in sorted(by_id.items())
    }
    defaults = {key: default_version(ms, today) for key, ms in all_versions.items()}
    return Registry(
        {key: m for key, m in defaults.items() if m is not None},
        catalogue,
        zones,
        all_versions,
        refresh,
        default_id,
    )


def load_registry(
    methodology_dir: Path, catalogue_file: Path, extra_dirs: tuple[Path, ...] = ()
) -> Registry:
    """Load and validate the data sets; ``extra_dirs`` hold further methodology files (a test's
    four-zone methodology, a regional office's draft) loaded after the main folder."""
    catalogue = load_legal_catalogue(catalogue_file)
    zones = shipped_zones()
    # Passing the catalogue lets the loader check that every obligation an indicator names exists.
    shipped = load_shipped_versions([methodology_dir, *extra_dirs], catalogue, zones)
    return build_registry(shipped, catalogue, zones, local_today())


def local_today() -> date:
    """Today in WIB: the day "in force today" means (as the default assessment period)."""
    return utcnow().astimezone(ZoneInfo("Asia/Jakarta")).date()


class RegistryCache:
    """One process's registry: the shipped versions plus the uploaded ones, re-read when the
    table changed (see the module's docstring)."""

    def __init__(self, shipped: Registry, ttl_seconds: float) -> None:
        self.shipped = shipped
        self.ttl = ttl_seconds
        self._lock = threading.Lock()
        #: Parsed uploads by content hash: the same bytes always parse the same.
        self._parsed: dict[str, Methodology] = {}
        self._registry: Registry | None = None
        self._generation: Any = object()
        self._built_on: date | None = None
        self._checked = float("-inf")

    def invalidate(self) -> None:
        """Check the table at the next ``get()``."""
        self._checked = float("-inf")

    def get(self) -> Registry:
        """The current snapshot, re-read when stale."""
        registry = self._registry
        if (
            registry is not None
            and time.monotonic() - self._checked < self.ttl
            and self._built_on == local_today()
        ):
            return registry
        return self.reload()

    def reload(self) -> Registry:
        """Check the generation now and rebuild the snapshot if it (or the day) changed."""
        with self._lock:
            today = local_today()
            try:
                read = self._read(today)
            except SQLAlchemyError as exc:
                if self._registry is not None:
                    # A busy database: keep what was read last (its published versions are
                    # still the truth) and try again at the next use.
                    log.warning("methodology versions not re-read (%s); kept the last ones", exc)
                    return self._registry
                # Before `flask db upgrade` (no table yet): the shipped files only, not kept
                # as a generation, so the table is read as soon as it answers.
                log.warning("methodology versions not read (%s); shipped files only", exc)
                read = (object(), [])
            if read is None:  # unchanged
                self._checked = time.monotonic()
                assert self._registry is not None  # noqa: S101 - unchanged means built
                return self._registry
            generation, uploaded = read
            registry = build_registry(
                [*_flatten(self.shipped), *uploaded],
                self.shipped.catalogue,
                self.shipped.zones,
                today,
                self.reload,
                self.shipped.default_id,
            )
            self._registry, self._generation, self._built_on = registry, generation, today
            self._checked = time.monotonic()
            return registry

    def _read(self, today: date) -> tuple[Any, list[Methodology]] | None:
        """The generation and the uploaded versions, or None when nothing changed."""
        from fieldcheck.extensions import db

        if db.engine.dialect.name == "sqlite" and db.session().in_transaction():
            # SQLite transactions begin IMMEDIATE (one writer): a second connection would wait
            # for the lock this session holds. Its own connection reads the same data.
            return self._read_on(db.session.connection(), today)
        # Else its own connection: on SQLite a deferred (read-only) BEGIN, which takes no write
        # lock (a zoning run's process holds none while it works); on PostgreSQL a failed query
        # (no table before `flask db upgrade`) must not abort the session's transaction.
        with db.engine.connect().execution_options(fieldcheck_read_snapshot=True) as conn:
            return self._read_on(conn, today)

    def _read_on(self, conn: Any, today: date) -> tuple[Any, list[Methodology]] | None:
        generation = _generation(conn)
        if (
            self._registry is not None
            and generation == self._generation
            and today == self._built_on
        ):
            return None
        return generation, self._uploaded(conn)

    def _uploaded(self, conn: Any) -> list[Methodology]:
        """Every uploaded version, its status and dates from its row."""
        from fieldcheck.catalogue.models import MethodologyVersion as MV

        rows = conn.execute(
            select(
                MV.id,
                MV.methodology_id,
                MV.version,
                MV.status,
                MV.effective_from,
                MV.effective_to,
                MV.format,
                MV.content_hash,
            ).order_by(MV.methodology_id, MV.version)
        ).all()
        out = []
        for row in rows:
            base = self._parsed.get(row.content_hash)
            if base is None:
                content = conn.execute(select(MV.content).where(MV.id == row.id)).scalar_one()
                try:
                    base = parse_upload(
                        content, row.format, self.shipped.catalogue, self.shipped.zones
                    )
                except CatalogueError as exc:
                    # Valid when uploaded; a later legal catalogue may lack an obligation it
                    # names. One bad row must not take the app down.
                    log.error("uploaded methodology %s v%s skipped: %s", *row[1:3], exc)
                    continue
                self._parsed[row.content_hash] = base
            out.append(
                replace(
                    base,
                    status=row.status,
                    effective_from=row.effective_from or base.effective_from,
                    effective_to=row.effective_to,
                )
            )
        return out


def parse_upload(
    content: bytes, fmt: str, catalogue: LegalCatalogue, zones: tuple[Zone, ...]
) -> Methodology:
    """Validate uploaded bytes with the loader of the shipped files, strictly (every indicator
    with its legal basis and confidence; CatalogueError)."""
    return load_methodology(f"upload.{fmt}", catalogue, zones, True, raw=content, fmt=fmt)


def _flatten(registry: Registry) -> list[Methodology]:
    return [m for versions in registry.all_versions.values() for m in versions]


def _generation(conn: Any) -> tuple[Any, ...]:
    """What identifies the table's state: each row's id, status, hash and dates. A few dozen
    small rows; unlike a timestamp it cannot miss two changes in the same clock tick (or under
    a test's fixed clock)."""
    from fieldcheck.catalogue.models import MethodologyVersion as MV

    return tuple(
        tuple(row)
        for row in conn.execute(
            select(MV.id, MV.status, MV.content_hash, MV.effective_from, MV.effective_to).order_by(
                MV.id
            )
        )
    )


def init_app(app: Flask) -> None:
    """Load the shipped files for this app (once per process; a broken file stops it here)."""
    methodology_dir = Path(app.config["METHODOLOGY_DIR"] or METHODOLOGY_DIR)
    catalogue_file = Path(app.config["LEGAL_CATALOGUE_FILE"] or LEGAL_CATALOGUE_FILE)
    extra = app.config.get("EXTRA_METHODOLOGY_DIRS") or ""
    extra_dirs = tuple(Path(part) for part in str(extra).split(":") if part.strip())
    shipped = load_registry(methodology_dir, catalogue_file, extra_dirs)
    default_id = str(app.config.get("DEFAULT_METHODOLOGY") or "").strip() or None
    if default_id is not None:
        chosen = shipped.methodology(default_id)
        if chosen is None or chosen.status != "published":
            raise CatalogueError(
                N_("%(value)s is not a loaded, published methodology"),
                {"value": repr(default_id)},
                where="DEFAULT_METHODOLOGY",
            )
        shipped = replace(shipped, default_id=default_id)
    ttl = float(app.config.get("METHODOLOGY_CACHE_SECONDS", 5.0))
    app.extensions[_EXTENSION] = RegistryCache(shipped, ttl)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """A committed change to the uploaded versions: this process re-reads them next time."""
    if session.info.pop(CHANGED, False):
        # No app context, or an app without the registry: nothing to invalidate.
        with contextlib.suppress(RuntimeError, KeyError):
            current_app.extensions[_EXTENSION].invalidate()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """A rolled back change: on SQLite this process may have read it uncommitted (the
    session's own connection), so it re-reads."""
    if session.info.pop(CHANGED, False):
        with contextlib.suppress(RuntimeError, KeyError):
            current_app.extensions[_EXTENSION].invalidate()


def get_registry() -> Registry:
    """The current app's registry (uploaded versions re-read when they changed)."""
    return current_app.extensions[_EXTENSION].get()


def loaded_registry() -> Registry:
    """The snapshot this process holds now, without checking the database (health probes):
    the last one read, else the shipped files."""
    cache = current_app.extensions[_EXTENSION]
    return cache._registry or cache.shipped


def shipped_registry() -> Registry:
    """Only the shipped files (no database): for code that runs before migrations."""
    return current_app.extensions[_EXTENSION].shipped

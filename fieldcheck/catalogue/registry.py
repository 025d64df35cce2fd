"""The loaded methodologies and legal catalogue, shared read-only by requests and jobs.

Files are read and validated once per process at start-up (a broken file stops the app with a
message naming it). A published methodology is immutable: its content hash is pinned in
``data/methodologies/published.lock.json`` and a changed file refuses to load; publish a new
version instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from flask import Flask, current_app

from fieldcheck.catalogue import CatalogueError, load_legal_catalogue, load_methodologies
from fieldcheck.catalogue.zones import shipped_zones
from fieldcheck.core.model import LegalCatalogue, Methodology, Zone

DATA_DIR = Path(__file__).resolve().parent / "data"
METHODOLOGY_DIR = DATA_DIR / "methodologies"
LEGAL_CATALOGUE_FILE = DATA_DIR / "legal" / "catalogue.toml"
PUBLISHED_LOCK = METHODOLOGY_DIR / "published.lock.json"
#: Shipped drafts (ombudsman-2025): not loaded unless named in EXTRA_METHODOLOGY_DIRS or uploaded.
METHODOLOGY_DRAFTS_DIR = METHODOLOGY_DIR / "drafts"


@dataclass(frozen=True)
class Registry:
    """Methodologies by id, the legal catalogue and the zone catalogue (worst first)."""

    methodologies: dict[str, Methodology]
    catalogue: LegalCatalogue
    zones: tuple[Zone, ...] = ()
    #: The methodology used when none is named (setting DEFAULT_METHODOLOGY); None = the newest
    #: published one. Explicit because "newest" stopped being a good default once several schemes
    #: ship (ombudsman-2022 zones agencies from interviews; the KemenPANRB indexes are others').
    default_id: str | None = None

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

    def methodology(self, methodology_id: str) -> Methodology | None:
        """The methodology with this id, or None."""
        return self.methodologies.get(methodology_id)


def check_published_lock(methodologies: dict[str, Methodology], lock_path: Path) -> None:
    """Refuse a published methodology whose file changed since it was published."""
    lock = json.loads(lock_path.read_text(encoding="utf-8")) if lock_path.exists() else {}
    for methodology in methodologies.values():
        if methodology.status != "published":
            continue
        pinned = lock.get(methodology.id, {}).get(str(methodology.version))
        if pinned is not None and pinned != methodology.content_hash:
            raise CatalogueError(
                f"methodology {methodology.id} version {methodology.version} is published and "
                f"its file changed (sha256 {methodology.content_hash}, published as {pinned}); "
                "a published methodology is immutable: give the change a new version"
            )


def load_registry(
    methodology_dir: Path, catalogue_file: Path, extra_dirs: tuple[Path, ...] = ()
) -> Registry:
    """Load and validate the data sets; ``extra_dirs`` hold further methodology files (a test's
    four-zone methodology, a regional office's draft) loaded after the main folder."""
    catalogue = load_legal_catalogue(catalogue_file)
    zones = shipped_zones()
    # Passing the catalogue lets the loader check that every obligation an indicator names exists.
    methodologies = load_methodologies([methodology_dir, *extra_dirs], catalogue, zones)
    for folder in (methodology_dir, *extra_dirs):
        check_published_lock(methodologies, folder / PUBLISHED_LOCK.name)
    return Registry(methodologies, catalogue, zones)


def init_app(app: Flask) -> None:
    """Load the registry for this app (once per process)."""
    methodology_dir = Path(app.config["METHODOLOGY_DIR"] or METHODOLOGY_DIR)
    catalogue_file = Path(app.config["LEGAL_CATALOGUE_FILE"] or LEGAL_CATALOGUE_FILE)
    extra = app.config.get("EXTRA_METHODOLOGY_DIRS") or ""
    extra_dirs = tuple(Path(part) for part in str(extra).split(":") if part.strip())
    registry = load_registry(methodology_dir, catalogue_file, extra_dirs)
    default_id = str(app.config.get("DEFAULT_METHODOLOGY") or "").strip() or None
    if default_id is not None:
        chosen = registry.methodology(default_id)
        if chosen is None or chosen.status != "published":
            raise CatalogueError(
                f"DEFAULT_METHODOLOGY: {default_id!r} is not a loaded, published methodology"
            )
        registry = replace(registry, default_id=default_id)
    app.extensions["fieldcheck.registry"] = registry


def get_registry() -> Registry:
    """The current app's registry."""
    return current_app.extensions["fieldcheck.registry"]

"""The loaded methodologies and legal catalogue, shared read-only by requests and jobs.

Files are read and validated once per process at start-up (a broken file stops the app with a
message naming it). A published methodology is immutable: its content hash is pinned in
``data/methodologies/published.lock.json`` and a changed file refuses to load; publish a new
version instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from fieldcheck.catalogue import CatalogueError, load_legal_catalogue, load_methodologies
from fieldcheck.core.model import LegalCatalogue, Methodology

DATA_DIR = Path(__file__).resolve().parent / "data"
METHODOLOGY_DIR = DATA_DIR / "methodologies"
LEGAL_CATALOGUE_FILE = DATA_DIR / "legal" / "catalogue.toml"
PUBLISHED_LOCK = METHODOLOGY_DIR / "published.lock.json"


@dataclass(frozen=True)
class Registry:
    """Methodologies by id and the legal catalogue."""

    methodologies: dict[str, Methodology]
    catalogue: LegalCatalogue

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


def load_registry(methodology_dir: Path, catalogue_file: Path) -> Registry:
    """Load and validate both data sets."""
    catalogue = load_legal_catalogue(catalogue_file)
    # Passing the catalogue lets the loader check that every obligation an indicator names exists.
    methodologies = load_methodologies(methodology_dir, catalogue)
    check_published_lock(methodologies, methodology_dir / PUBLISHED_LOCK.name)
    return Registry(methodologies, catalogue)


def init_app(app: Flask) -> None:
    """Load the registry for this app (once per process)."""
    methodology_dir = Path(app.config["METHODOLOGY_DIR"] or METHODOLOGY_DIR)
    catalogue_file = Path(app.config["LEGAL_CATALOGUE_FILE"] or LEGAL_CATALOGUE_FILE)
    app.extensions["fieldcheck.registry"] = load_registry(methodology_dir, catalogue_file)


def get_registry() -> Registry:
    """The current app's registry."""
    return current_app.extensions["fieldcheck.registry"]

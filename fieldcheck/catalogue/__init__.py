"""Versioned data files (methodologies, legal catalogue) and their validating loaders."""

from fieldcheck.catalogue.legal import load_legal_catalogue
from fieldcheck.catalogue.methodology import load_methodologies, load_methodology
from fieldcheck.catalogue.reader import CatalogueError, CataloguePaths, default_paths

__all__ = [
    "CatalogueError",
    "CataloguePaths",
    "default_paths",
    "load_legal_catalogue",
    "load_methodologies",
    "load_methodology",
]

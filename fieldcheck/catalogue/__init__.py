"""Versioned data files (methodologies, legal catalogue) and their validating loaders."""

from fieldcheck.catalogue.loader import (
    CatalogueError,
    CataloguePaths,
    default_paths,
    load_legal_catalogue,
    load_methodologies,
    load_methodology,
)

__all__ = [
    "CatalogueError",
    "CataloguePaths",
    "default_paths",
    "load_legal_catalogue",
    "load_methodologies",
    "load_methodology",
]

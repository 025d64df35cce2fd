"""admin pages (fieldcheck.web): filled in by issue 13."""

from __future__ import annotations

"""The zone codes as a reference table, so that a stored zone is constrained by a foreign key.

The zone catalogue (``data/zones.toml``) is the one home of zones; this table only mirrors its
codes for the database (migration 0016 seeds them; a new zone needs a migration inserting its
code, and tests/zones/test_catalogue.py checks the two agree). Names and colours stay in the file.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.extensions import db


class ZoneCode(db.Model):
    """One known zone code (``merah``, ``hitam``...)."""

    __tablename__ = "zones"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)

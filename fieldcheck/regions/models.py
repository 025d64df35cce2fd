"""Provinces and regencies/cities with their Kemendagri codes and time zones."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.extensions import db


class Region(db.Model):
    """A province (``35``) or regency/city (``35.15``); seeded from the Kemendagri list."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'regency')", name="level"),
        CheckConstraint("kind IN ('provinsi', 'kabupaten', 'kota')", name="kind"),
        CheckConstraint(
            "(level = 'province' AND parent_code IS NULL) OR "
            "(level = 'regency' AND parent_code IS NOT NULL)",
            name="parent_matches_level",
        ),
    )

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    #: IANA zone of the province: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT).
    timezone: Mapped[str] = mapped_column(String(40))

    @property
    def province_code(self) -> str:
        """The province this region is in (itself for a province)."""
        return self.code.split(".")[0]

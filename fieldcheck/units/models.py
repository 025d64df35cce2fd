"""Instansi (agencies), unit layanan (service units) and the services each unit offers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db
from fieldcheck.regions.models import Region

AGENCY_KINDS = ("kementerian", "lembaga", "pemprov", "pemkab", "pemkot")


class Agency(db.Model):
    """An instansi: a ministry, agency, or provincial/regency/city government."""

    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(f"kind IN {AGENCY_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    #: Where the agency is located: the deepest region holding all of its units (a regency for a
    #: pemkab/pemkot or a district office, a province for a pemprov); NULL for an agency whose units
    #: span provinces. Regency and province roll-ups average the agencies located there.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region | None] = relationship(lazy="joined")


class Unit(db.Model):
    """A unit layanan (Disdukcapil Sidoarjo, Satpas Polresta Padang...) that surveyors visit."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: The regency/city (or province) the unit is in; scoping and time zone follow it.
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined")
    services: Mapped[list[UnitService]] = relationship(
        cascade="all, delete-orphan", order_by="UnitService.service_code", lazy="selectin"
    )

    @property
    def service_codes(self) -> list[str]:
        """Codes of the services this unit offers, sorted."""
        return [s.service_code for s in self.services]


class UnitService(db.Model):
    """A service (code from the legal catalogue) that a unit offers."""

    __tablename__ = "unit_services"
    __table_args__ = (UniqueConstraint("unit_id", "service_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    #: A code of the legal service catalogue (a versioned data file, checked on import).
    service_code: Mapped[str] = mapped_column(String(64))

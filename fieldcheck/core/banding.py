"""Rounding and banding: turn an exact score into the two-decimal number and zone people see.

Rounding is half-up (50.995 -> 51.00), never Python's banker's rounding and never on floats, because
a score on a band edge decides a unit's zone (domain.md §5: "round half-up to 2 decimals before
banding").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from fieldcheck.core.model import Band

#: Working precision for Decimal arithmetic; far more digits than any score or weight carries, so
#: quantize never runs out of precision (which would raise InvalidOperation).
PRECISION = 60


def round_half_up(x: Decimal | Fraction | int, places: int = 2) -> Decimal:
    """Round ``x`` to ``places`` decimals, halves away from zero, exactly (no float on the way)."""
    if isinstance(x, Fraction):
        # Exact for any rational: scale, add a half, floor (for negatives mirror it).
        scaled = abs(x) * 10**places
        q = int(scaled + Fraction(1, 2))
        q = -q if x < 0 else q
        return Decimal(q).scaleb(-places)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return Decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def band_for(score: Decimal, bands: Sequence[Band]) -> Band:
    """The band with ``min <= score <= max``; ValueError when no band covers the score."""
    for band in bands:
        if band.min <= score <= band.max:
            return band
    raise ValueError(f"no band covers score {score}")


def mean(scores: Iterable[Decimal | None], places: int = 2) -> Decimal | None:
    """Mean of the scores that exist, rounded half-up; None when none exists (used for roll-ups)."""
    present = [Fraction(s) for s in scores if s is not None]
    if not present:
        return None
    return round_half_up(sum(present, Fraction(0)) / len(present), places)

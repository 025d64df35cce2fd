"""Test images made with Pillow: no binary fixtures."""

from __future__ import annotations

import functools
import io
import random
from datetime import datetime

from PIL import Image


def _gps(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg(
    size: tuple[int, int] = (800, 600),
    taken: datetime | None = None,
    gps: tuple[float, float] | None = None,
    seed: int = 0,
    orientation: int | None = None,
    offset: str | None = None,
) -> bytes:
    """A JPEG with optional EXIF DateTimeOriginal, OffsetTimeOriginal, GPS and orientation."""
    image = noise(size, seed)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if offset is not None:
        exif.get_ifd(0x8769)[0x9011] = offset
    if gps is not None:
        ifd = exif.get_ifd(0x8825)
        ifd[1] = "S" if gps[0] < 0 else "N"
        ifd[2] = _gps(gps[0])
        ifd[3] = "W" if gps[1] < 0 else "E"
        ifd[4] = _gps(gps[1])
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A random-ish RGB image (different seeds give different bytes)."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def png(size: tuple[int, int] = (320, 200), seed: int = 1) -> bytes:
    """A PNG."""
    out = io.BytesIO()
    noise(size, seed).save(out, "PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (320, 200), seed: int = 2) -> bytes:
    """A WebP."""
    out = io.BytesIO()
    noise(size, seed).save(out, "WEBP", quality=80)
    return out.getvalue()


@functools.cache
def bomb(side: int = 20_000) -> bytes:
    """A single-colour PNG declaring side x side pixels: a few KB that decode to hundreds of MB."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, "PNG", optimize=True)
    return out.getvalue()

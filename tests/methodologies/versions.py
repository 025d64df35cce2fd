"""Methodology files for the version tests: the shipped ombudsman-2019 as a new version."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date

from fieldcheck.catalogue.registry import METHODOLOGY_DIR

SHIPPED = (METHODOLOGY_DIR / "ombudsman-2019.toml").read_text(encoding="utf-8")

#: Stricter bands than version 1 (hijau from 81.00): the same visits land in lower zones.
STRICT_BANDS = """
[[bands]]
min = "0.00"
max = "89.99"
grade = "Merah"
label = "kepatuhan rendah"
zone = "merah"

[[bands]]
min = "90.00"
max = "97.99"
grade = "Kuning"
label = "kepatuhan sedang"
zone = "kuning"

[[bands]]
min = "98.00"
max = "100.00"
grade = "Hijau"
label = "kepatuhan tinggi"
zone = "hijau"
"""


def version_toml(version: int, bands: str = STRICT_BANDS, weight_factor: int = 2) -> str:
    """ombudsman-2019 as ``version``: a draft with other bands and the first indicator's
    weight multiplied (different weights, as an admin's new version would have)."""
    text = SHIPPED.replace("version = 1\n", f"version = {version}\n", 1)
    text = text.replace('status = "published"', 'status = "draft"', 1)
    text = text.replace("effective_from = 2015-01-01", "effective_from = 2026-01-01", 1)
    head, _, _old_bands = text.partition("[[bands]]")
    head = re.sub(
        r"(\[\[indicators\]\][^\[]*?weight = )(\d+)",
        lambda m: f"{m[1]}{int(m[2]) * weight_factor}",
        head,
        count=1,
    )
    return _strict(head + bands)


def _strict(text: str) -> str:
    """What an upload needs beyond a shipped 2019 file (strict loading): a confidence on every
    indicator and band, a legal basis on every indicator."""
    blocks = re.split(r"(?m)^(?=\[\[(?:indicators|bands)\]\]\n)", text)
    out = []
    for block in blocks:
        if block.startswith(("[[indicators]]", "[[bands]]")):
            header, _, rest = block.partition("\n")
            extra = 'confidence = "unverified"\n'
            if header == "[[indicators]]" and "\nlegal_basis" not in "\n" + rest:
                extra += 'legal_basis = ["UU 25/2009"]\n'
            block = f"{header}\n{extra}{rest}"
        out.append(block)
    return "".join(out).replace("legal_basis = []", 'legal_basis = ["UU 25/2009"]')


def version_json(version: int) -> str:
    """The same as ``version_toml`` in JSON (dates as "YYYY-MM-DD")."""
    data = tomllib.loads(version_toml(version))
    return json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, date) else str(v))

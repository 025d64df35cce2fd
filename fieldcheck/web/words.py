"""Words pages show for stored codes (zones, roles, levels), so the extractor finds them."""

from __future__ import annotations

from fieldcheck.i18n import N_

#: Zone names of the zone catalogue (catalogue/data/zones.toml ``name``), listed here so the
#: extractor finds them: Indonesian in Indonesian, translated in English ("merah" -> "red").
ZONES = (N_("hitam"), N_("merah"), N_("kuning"), N_("hijau"))
ROLES = (N_("surveyor"), N_("supervisor"), N_("admin"))
LEVELS = (N_("national"), N_("province"), N_("regency"), N_("agency"), N_("unit"))

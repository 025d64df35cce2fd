"""What an interview record may say about its respondent: coarse attributes only.

UU 27/2022 (Pelindungan Data Pribadi) asks for data minimisation: the 2022 method needs to know
that the right people were asked (staff, service users, complaint officers) and may describe the
sample (gender, age band), never who they are. So a record takes exactly these enumerated
attributes; a name, NIK, telephone number or address has no field to go in and is refused.
"""

from __future__ import annotations

#: The attributes a record may hold about its respondent (each optional).
RESPONDENT_FIELDS = ("role", "gender", "age_band")
#: L (laki-laki), P (perempuan), or not said.
GENDERS = ("L", "P", "tidak_disebut")
#: Coarse age bands (years); ``tidak_disebut`` when the respondent does not say.
AGE_BANDS = ("17_24", "25_34", "35_44", "45_54", "55_up", "tidak_disebut")
#: Roles a respondent may have, by instrument code (the codes the Ombudsman methods use).
ROLES_BY_INSTRUMENT: dict[str, tuple[str, ...]] = {
    "staf": ("pimpinan", "petugas_layanan", "petugas_lain"),
    "pengguna": ("pengguna_langsung", "kuasa_pengguna"),
    "petugas_pengaduan": ("pengelola_pengaduan", "pimpinan"),
}
#: Roles of an instrument not named above (an SKM questionnaire, a methodology's own kind).
OTHER_ROLES = ("responden",)
#: Every role some instrument takes (the wire's first check; the instrument's list is the second).
ALL_ROLES = tuple(
    sorted({r for roles in ROLES_BY_INSTRUMENT.values() for r in roles} | set(OTHER_ROLES))
)
#: The free-text note's limit: it is for the interview's circumstances, not for personal data.
NOTE_MAX = 500


def roles_for(instrument: str) -> tuple[str, ...]:
    """The roles a respondent of ``instrument`` may have."""
    return ROLES_BY_INSTRUMENT.get(instrument, OTHER_ROLES)

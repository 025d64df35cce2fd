"""Error messages in the reader's language: English, or Indonesian for ``Accept-Language: id``.

Supervisors work in Bahasa Indonesia, and their browsers say so (``id-ID,id;q=0.9,en;q=0.8``);
phones and scripts that send nothing keep the English the contract documents. Only the human
``message`` texts of the error envelope (and ``details.fields``) change: ``code``, field paths
and every other value stay as they are, so nothing that a client matches on depends on the
language.

The service's messages are written in English at the place that raises them, as before. This
module maps each English text to its Indonesian one; a text with values in it (``{}`` in the
English template) is matched as a pattern and its values carried over, so the call sites stay
plain f-strings. ``tests/system/test_i18n.py`` checks that every message in the code, and every
default message of the marshmallow fields and validators in use, has a translation. A text
without one is sent in English rather than not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

#: Languages answered, first = default (what a request without Accept-Language gets).
LANGUAGES = ("en", "id")

#: English message (``{}`` for a value) -> Indonesian (``{0}``, ``{1}``... for the values in the
#: English order).
INDONESIAN: dict[str, str] = {
    # The error catalogue (fieldcheck.errors.CATALOGUE) and the handlers' own texts.
    "The request body is not valid JSON.": "Isi permintaan bukan JSON yang sah.",
    "The request could not be understood.": "Permintaan tidak dapat dipahami.",
    "A valid bearer token is required.": "Diperlukan token bearer yang sah.",
    "Your role does not allow this.": "Peran Anda tidak mengizinkan tindakan ini.",
    "This object is outside your region.": "Objek ini berada di luar wilayah Anda.",
    "No such object.": "Objek tidak ditemukan.",
    "This method is not allowed here.": "Metode ini tidak diizinkan di sini.",
    "The requested representation is not available.": "Format yang diminta tidak tersedia.",
    "The request conflicts with the stored state.": (
        "Permintaan bertentangan dengan data yang tersimpan."
    ),
    "This submission_id was already used for a different body.": (
        "submission_id ini sudah dipakai untuk isi yang berbeda."
    ),
    "This change is not allowed from the object's current state.": (
        "Perubahan ini tidak diizinkan dari status objek saat ini."
    ),
    "The inspection cannot be approved yet.": "Inspeksi belum dapat disetujui.",
    "This inspection was already corrected by another submission.": (
        "Inspeksi ini sudah dikoreksi oleh kiriman lain."
    ),
    "The request body is larger than allowed.": "Isi permintaan melebihi ukuran yang diizinkan.",
    "The request line (URL) is longer than allowed.": (
        "Baris permintaan (URL) melebihi panjang yang diizinkan."
    ),
    "The content type is not supported here.": "Jenis konten ini tidak didukung di sini.",
    "The request is well-formed but invalid.": "Format permintaan benar, tetapi isinya tidak sah.",
    "The file is not a complete, acceptable image.": (
        "Berkas bukan gambar yang utuh dan dapat diterima."
    ),
    "Too many requests; slow down.": "Terlalu banyak permintaan; mohon perlambat.",
    "The request headers are larger than allowed.": (
        "Header permintaan melebihi ukuran yang diizinkan."
    ),
    "Something went wrong on our side; it has been logged.": (
        "Terjadi kesalahan di sisi kami; kesalahan ini sudah dicatat."
    ),
    "The service is temporarily unavailable; try again.": (
        "Layanan sedang tidak tersedia; silakan coba lagi."
    ),
    "The database is busy; try again.": "Basis data sedang sibuk; silakan coba lagi.",
    "The change conflicts with stored data.": "Perubahan bertentangan dengan data yang tersimpan.",
    "A value cannot be stored as given.": "Sebuah nilai tidak dapat disimpan seperti yang dikirim.",
    # Request bodies (fieldcheck.http).
    "Send the body as application/json.": "Kirim isi permintaan sebagai application/json.",
    "The body is empty.": "Isi permintaan kosong.",
    "The body is not valid UTF-8.": "Isi permintaan bukan UTF-8 yang sah.",
    "The body is not valid JSON: {} at line {} column {}.": (
        "Isi permintaan bukan JSON yang sah: {0} pada baris {1} kolom {2}."
    ),
    "The body is nested too deeply.": "Isi permintaan bersarang terlalu dalam.",
    "The body is not acceptable JSON: {}.": "Isi permintaan bukan JSON yang dapat diterima: {0}.",
    "duplicate key {}": "kunci ganda {0}",
    "The body must be a JSON object.": "Isi permintaan harus berupa objek JSON.",
    "NUL characters are not allowed.": "Karakter NUL tidak diizinkan.",
    "Unpaired UTF-16 surrogates (\\ud800-\\udfff) are not allowed.": (
        "Surrogate UTF-16 tanpa pasangan (\\ud800-\\udfff) tidak diizinkan."
    ),
    # Users and tokens.
    "No such user.": "Pengguna tidak ditemukan.",
    "You may only create users inside your region.": (
        "Anda hanya boleh membuat pengguna di dalam wilayah Anda."
    ),
    "You cannot deactivate yourself.": "Anda tidak dapat menonaktifkan diri sendiri.",
    "The user is deactivated.": "Pengguna sudah dinonaktifkan.",
    "No such token.": "Token tidak ditemukan.",
    "Only an admin over a wider region may issue tokens for another admin.": (
        "Hanya admin dengan wilayah yang lebih luas yang boleh menerbitkan token untuk admin lain."
    ),
    "Unknown region code.": "Kode wilayah tidak dikenal.",
    "The token is unknown, expired or revoked.": (
        "Token tidak dikenal, sudah kedaluwarsa, atau sudah dicabut."
    ),
    "This needs one of the roles: {}.": "Tindakan ini memerlukan salah satu peran: {0}.",
    # Catalogue, regions, units.
    "No such methodology.": "Metodologi tidak ditemukan.",
    "No such region.": "Wilayah tidak ditemukan.",
    "No such unit.": "Unit tidak ditemukan.",
    # Inspections (intake).
    "This submission_id is already used by another surveyor's checklist; every checklist needs "
    "its own submission_id.": (
        "submission_id ini sudah dipakai oleh daftar periksa surveyor lain; setiap daftar periksa "
        "memerlukan submission_id sendiri."
    ),
    "This submission_id was already used for a different checklist; a corrected checklist needs "
    "a new submission_id.": (
        "submission_id ini sudah dipakai untuk daftar periksa yang berbeda; daftar periksa yang "
        "dikoreksi memerlukan submission_id baru."
    ),
    "No such inspection.": "Inspeksi tidak ditemukan.",
    "Unknown unit.": "Unit tidak dikenal.",
    "Unknown methodology.": "Metodologi tidak dikenal.",
    "This unit is outside your region.": "Unit ini berada di luar wilayah Anda.",
    "Unknown indicator for methodology {}.": "Indikator tidak dikenal untuk metodologi {0}.",
    "This indicator is derived from posted_standards; do not answer it directly.": (
        "Indikator ini diturunkan dari posted_standards; jangan dijawab langsung."
    ),
    'Missing answer (send "na" when the item does not apply).': (
        'Jawaban belum diisi (kirim "na" bila butir ini tidak berlaku).'
    ),
    "Methodology is {}, not published.": "Metodologi berstatus {0}, belum diterbitkan.",
    "Unknown service code.": "Kode layanan tidak dikenal.",
    "Must be a whole number from {} to {}, or na.": (
        "Harus bilangan bulat dari {0} sampai {1}, atau na."
    ),
    "Must be one of {}.": "Harus salah satu dari {0}.",
    "Methodology {} was not in effect on {}.": "Metodologi {0} tidak berlaku pada {1}.",
    "Must be one of yes, partial, no, na, or a whole number.": (
        "Harus salah satu dari yes, partial, no, na, atau bilangan bulat."
    ),
    "Must be an inspection id or a submission_id (UUID).": (
        "Harus berupa id inspeksi atau submission_id (UUID)."
    ),
    "Must be a lowercase sha256 hex digest.": (
        "Harus berupa digest sha256 heksadesimal huruf kecil."
    ),
    "A component is listed twice.": "Sebuah komponen tercantum dua kali.",
    'Given, so "{}" must be listed in components.': (
        'Nilainya diisi, jadi "{0}" harus tercantum dalam components.'
    ),
    "Must not be before started_at.": "Tidak boleh sebelum started_at.",
    "{} says the service standard is published: list, for each service observed, the components "
    "it shows (or answer no).": (
        "{0} menyatakan standar pelayanan dipublikasikan: sebutkan, untuk setiap layanan yang "
        "diamati, komponen yang terpampang (atau jawab no)."
    ),
    "{} does not offer this service (it offers {}).": (
        "{0} tidak menyelenggarakan layanan ini (layanannya: {1})."
    ),
    "This service is already listed.": "Layanan ini sudah tercantum.",
    # Evidence.
    "The photo is larger than {} bytes.": "Foto lebih besar dari {0} bita.",
    "No such photo.": "Foto tidak ditemukan.",
    "The photo's file is no longer stored.": "Berkas foto ini sudah tidak disimpan.",
    "The image has too many pixels (possible decompression bomb).": (
        "Gambar memiliki terlalu banyak piksel (kemungkinan bom dekompresi)."
    ),
    "Send the photo as multipart/form-data, field file.": (
        "Kirim foto sebagai multipart/form-data, pada field file."
    ),
    "This indicator has no missing photo evidence to waive.": (
        "Indikator ini tidak memiliki bukti foto yang kurang untuk dikecualikan."
    ),
    "The multipart body has no 'file' part.": "Isi multipart tidak memiliki bagian 'file'.",
    "The upload is incomplete or malformed.": "Unggahan tidak lengkap atau formatnya rusak.",
    "Too many pixels.": "Terlalu banyak piksel.",
    "The file is not a JPEG, PNG or WebP image.": "Berkas bukan gambar JPEG, PNG, atau WebP.",
    "The image is truncated or corrupt.": "Gambar terpotong atau rusak.",
    "The image cannot be decoded: {}": "Gambar tidak dapat dibaca: {0}",
    "The upload ended before it was complete.": "Unggahan berhenti sebelum selesai.",
    "No missing evidence for this indicator.": "Tidak ada bukti yang kurang untuk indikator ini.",
    # Review, objections, corrections.
    "No such finding.": "Temuan tidak ditemukan.",
    "No such objection.": "Keberatan tidak ditemukan.",
    "An inspection that is {} cannot be given the decision {}.": (
        "Inspeksi berstatus {0} tidak dapat diberi keputusan {1}."
    ),
    "This finding is already withdrawn.": "Temuan ini sudah dicabut.",
    "No such photo of yours: upload it first (POST /api/v1/photos).": (
        "Foto Anda tidak ditemukan: unggah dulu (POST /api/v1/photos)."
    ),
    "This objection was already decided: {}.": "Keberatan ini sudah diputuskan: {0}.",
    "More than {} inspections match; narrow the filter.": (
        "Lebih dari {0} inspeksi cocok; persempit filternya."
    ),
    "No such inspection within the filter.": "Inspeksi tidak ditemukan dalam filter ini.",
    "No such inspection of yours.": "Inspeksi Anda tidak ditemukan.",
    "The corrected inspection is of another unit.": "Inspeksi yang dikoreksi milik unit lain.",
    "Only a returned inspection can be corrected; this is {}.": (
        "Hanya inspeksi yang dikembalikan yang dapat dikoreksi; inspeksi ini berstatus {0}."
    ),
    "A reason is required.": "Alasan wajib diisi.",
    "A reason is required for this decision.": "Keputusan ini wajib disertai alasan.",
    "Give at least one filter criterion or a list of ids.": (
        "Berikan sedikitnya satu kriteria filter atau daftar id."
    ),
    # Zoning runs, results, publication, overrides.
    "No such zoning run.": "Proses penzonaan tidak ditemukan.",
    "This unit has no result in the run (no approved, scored inspection in the period).": (
        "Unit ini tidak memiliki hasil dalam proses ini (tidak ada inspeksi yang disetujui dan "
        "dinilai pada periode tersebut)."
    ),
    "The run's methodology is no longer loaded.": "Metodologi proses ini sudah tidak dimuat.",
    "Run #{} is {}: only a succeeded run has results.": (
        "Proses #{0} berstatus {1}: hanya proses yang berhasil yang memiliki hasil."
    ),
    "At least one indicator needs a weight above 0.": (
        "Sedikitnya satu indikator harus berbobot di atas 0."
    ),
    "No published methodology is loaded.": "Tidak ada metodologi terbit yang dimuat.",
    "Draft weights are only allowed in a dry run (what-if).": (
        "Bobot rancangan hanya diizinkan pada simulasi (what-if)."
    ),
    "Must be a year between 2000 and 2100.": "Harus tahun antara 2000 dan 2100.",
    "A dry run (what-if) can never be published.": (
        "Simulasi (what-if) tidak pernah dapat diterbitkan."
    ),
    "Only a succeeded run can be published; this one is {}.": (
        "Hanya proses yang berhasil yang dapat diterbitkan; proses ini berstatus {0}."
    ),
    "Must be an object {indicator_code: weight}.": "Harus berupa objek {indicator_code: bobot}.",
    "Must be a number of 0 or more.": "Harus berupa angka 0 atau lebih.",
    "Methodology is {}; only a dry run may use it.": (
        "Metodologi berstatus {0}; hanya simulasi yang boleh memakainya."
    ),
    "This region is outside your scope.": "Wilayah ini berada di luar cakupan Anda.",
    "Methodology {} is in effect {}-{}, not {}.": "Metodologi {0} berlaku {1}-{2}, bukan {3}.",
    "Methodology {} is in effect from {}, not {}.": (
        "Metodologi {0} berlaku sejak {1}, bukan {2}."
    ),
    "This run covers more than your region.": "Proses ini mencakup lebih dari wilayah Anda.",
    "This unit already has an override in force for {}; withdraw it first.": (
        "Unit ini sudah memiliki penetapan zona yang berlaku untuk {0}; cabut dulu."
    ),
    "This unit has no override in force for {}.": (
        "Unit ini tidak memiliki penetapan zona yang berlaku untuk {0}."
    ),
    "The {} period has not begun (now: {}).": "Periode {0} belum dimulai (sekarang: {1}).",
    # Why a zoning run failed or was skipped (stored with the run, shown with it).
    "The process running it stopped (its lease expired or its process is gone); "
    "nothing was published.": (
        "Proses yang menjalankannya berhenti (lease-nya kedaluwarsa atau prosesnya hilang); "
        "tidak ada yang diterbitkan."
    ),
    "skipped: another run holds the lease (run #{})": (
        "dilewati: proses penzonaan lain sedang berjalan (proses #{0})"
    ),
    # Query arguments and shared fields (schemas).
    "Must be <type>:<id>, e.g. inspection:12.": (
        "Harus berbentuk <jenis>:<id>, misalnya inspection:12."
    ),
    "Must not be blank.": "Tidak boleh kosong.",
    "Give this parameter once.": "Berikan parameter ini sekali saja.",
    "Must be a time between the years 2 and 9998.": "Harus waktu antara tahun 2 dan 9998.",
    "Not a valid number.": "Bukan angka yang sah.",
    "Must be true or false.": "Harus true atau false.",
    "Must be a region code like 35 or 35.15.": "Harus kode wilayah seperti 35 atau 35.15.",
    'Must be "latest" or a run id.': 'Harus "latest" atau id proses.',
    # marshmallow's own messages (fields, schemas and the validators in use).
    "Missing data for required field.": "Wajib diisi.",
    "Field may not be null.": "Tidak boleh null.",
    "Invalid value.": "Nilai tidak sah.",
    "Invalid type.": "Jenis tidak sah.",
    "Invalid input type.": "Jenis masukan tidak sah.",
    "Invalid input.": "Masukan tidak sah.",
    "Unknown field.": "Isian tidak dikenal.",
    "Not a valid list.": "Bukan daftar yang sah.",
    "Not a valid tuple.": "Bukan tuple yang sah.",
    "Not a valid string.": "Bukan teks yang sah.",
    "Not a valid utf-8 string.": "Bukan teks utf-8 yang sah.",
    "Not a valid UUID.": "Bukan UUID yang sah.",
    "Number too large.": "Angka terlalu besar.",
    "Not a valid integer.": "Bukan bilangan bulat yang sah.",
    "Special numeric values (nan or infinity) are not permitted.": (
        "Nilai angka khusus (nan atau infinity) tidak diizinkan."
    ),
    "Not a valid boolean.": "Bukan boolean yang sah.",
    "Not a valid {}.": "Bukan {0} yang sah.",
    "Not a valid {} {}.": "Bukan {1} {0} yang sah.",
    "Not a valid datetime.": "Bukan tanggal-waktu yang sah.",
    "Not a valid aware datetime.": "Bukan tanggal-waktu yang sah: zona waktunya harus disebut.",
    "Not a valid naive datetime.": "Bukan tanggal-waktu yang sah: tanpa zona waktu.",
    '"{}" cannot be formatted as a {}.': '"{0}" tidak dapat diformat sebagai {1}.',
    "Not a valid date.": "Bukan tanggal yang sah.",
    '"{}" cannot be formatted as a date.': '"{0}" tidak dapat diformat sebagai tanggal.',
    "Not a valid period of time.": "Bukan rentang waktu yang sah.",
    "{} cannot be formatted as a timedelta.": "{0} tidak dapat diformat sebagai rentang waktu.",
    "Not a valid mapping type.": "Bukan objek (mapping) yang sah.",
    "Not a valid URL.": "Bukan URL yang sah.",
    "Not a valid email address.": "Bukan alamat email yang sah.",
    "Not a valid IP address.": "Bukan alamat IP yang sah.",
    "Not a valid IPv4 address.": "Bukan alamat IPv4 yang sah.",
    "Not a valid IPv6 address.": "Bukan alamat IPv6 yang sah.",
    "Not a valid IP interface.": "Bukan antarmuka IP yang sah.",
    "Not a valid IPv4 interface.": "Bukan antarmuka IPv4 yang sah.",
    "Not a valid IPv6 interface.": "Bukan antarmuka IPv6 yang sah.",
    "Must be one of: {}.": "Harus salah satu dari: {0}.",
    "Must be greater than or equal to {}.": "Harus lebih dari atau sama dengan {0}.",
    "Must be greater than {}.": "Harus lebih dari {0}.",
    "Must be less than or equal to {}.": "Harus kurang dari atau sama dengan {0}.",
    "Must be less than {}.": "Harus kurang dari {0}.",
    "Must be greater than or equal to {} and less than or equal to {}.": (
        "Harus lebih dari atau sama dengan {0} dan kurang dari atau sama dengan {1}."
    ),
    "Must be greater than {} and less than {}.": "Harus lebih dari {0} dan kurang dari {1}.",
    "Must be greater than or equal to {} and less than {}.": (
        "Harus lebih dari atau sama dengan {0} dan kurang dari {1}."
    ),
    "Must be greater than {} and less than or equal to {}.": (
        "Harus lebih dari {0} dan kurang dari atau sama dengan {1}."
    ),
    "Shorter than minimum length {}.": "Lebih pendek dari panjang minimum {0}.",
    "Longer than maximum length {}.": "Lebih panjang dari panjang maksimum {0}.",
    "Length must be between {} and {}.": "Panjang harus antara {0} dan {1}.",
    "Length must be {}.": "Panjang harus {0}.",
    "Must be equal to {}.": "Harus sama dengan {0}.",
    "String does not match expected pattern.": "Teks tidak sesuai pola yang diharapkan.",
    "One or more of the choices you made was not in: {}.": (
        "Satu atau lebih pilihan Anda tidak termasuk dalam: {0}."
    ),
    "One or more of the choices you made was in: {}.": (
        "Satu atau lebih pilihan Anda termasuk dalam: {0}."
    ),
}


#: Values inside a message that have an Indonesian word: the states and decisions a message may
#: name (the code stays beside it, since clients and people search on it), and the JSON parser's
#: own explanations.
VALUES: dict[str, str] = {
    **{
        code: f"{word} ({code})"
        for code, word in {
            "received": "diterima",
            "approved": "disetujui",
            "rejected": "ditolak",
            "returned": "dikembalikan",
            "approve": "setujui",
            "reject": "tolak",
            "return": "kembalikan",
            "pending": "menunggu",
            "upheld": "dikabulkan",
            "dismissed": "tidak dikabulkan",
            "queued": "antre",
            "running": "berjalan",
            "succeeded": "berhasil",
            "failed": "gagal",
            "skipped": "dilewati",
            "draft": "rancangan",
            "retired": "tidak berlaku",
        }.items()
    },
    "Expecting value": "diharapkan sebuah nilai",
    "Expecting property name enclosed in double quotes": (
        "diharapkan nama properti dalam tanda kutip ganda"
    ),
    "Expecting ',' delimiter": "diharapkan pemisah ','",
    "Expecting ':' delimiter": "diharapkan pemisah ':'",
    "Extra data": "ada data lebih setelah akhir JSON",
    "Unterminated string starting at": "teks tidak ditutup, mulai",
    "Invalid control character at": "karakter kendali tidak sah pada",
    "Invalid \\escape": "escape \\ tidak sah",
    "Invalid \\uXXXX escape": "escape \\uXXXX tidak sah",
    "NaN is not allowed in JSON": "NaN tidak diizinkan dalam JSON",
    "Infinity is not allowed in JSON": "Infinity tidak diizinkan dalam JSON",
    "-Infinity is not allowed in JSON": "-Infinity tidak diizinkan dalam JSON",
    "a number has more digits than any field accepts": (
        "sebuah angka memiliki lebih banyak digit daripada yang diterima isian mana pun"
    ),
    "a number is too large": "sebuah angka terlalu besar",
}


@cache
def _patterns() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """Exact texts, and the templates with values as anchored patterns (longest first, so a
    more specific template wins over a shorter one that would also match)."""
    exact: dict[str, str] = {}
    patterns = []
    for english, indonesian in INDONESIAN.items():
        if "{}" not in english:
            exact[english] = indonesian
            continue
        pieces = [re.escape(piece) for piece in english.split("{}")]
        patterns.append((re.compile("^" + "(.+?)".join(pieces) + "$", re.DOTALL), indonesian))
    patterns.sort(key=lambda item: -len(item[0].pattern))
    return exact, patterns


def translate(message: str, language: str) -> str:
    """``message`` in ``language``; unchanged for English or a text with no translation."""
    if language != "id":
        return message
    exact, patterns = _patterns()
    if message in exact:
        return exact[message]
    for pattern, indonesian in patterns:
        match = pattern.match(message)
        if match:
            return indonesian.format(*(_value(value) for value in match.groups()))
    return message


def _value(value: str) -> str:
    """A value inside a message: its Indonesian word, or its own translation when it is itself
    a known text (a parser's reason inside "not acceptable JSON: ..."), else as it is."""
    if value in VALUES:
        return VALUES[value]
    return translate(value, "id") if " " in value else value


def translate_for_request(message: str) -> str:
    """``message`` in the language of the request being served."""
    return translate(message, request_language())


def has_translation(message: str) -> bool:
    """True when ``message`` has an Indonesian text (used by the completeness test)."""
    return translate(message, "id") != message


def negotiate(accept_languages: Any) -> str:
    """The language for a request, from its parsed ``Accept-Language`` (werkzeug's
    ``LanguageAccept``): the best supported match, English when none is asked for."""
    return accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


def request_language() -> str:
    """The language of the request being served (English outside a request)."""
    from flask import has_request_context, request

    return negotiate(request.accept_languages) if has_request_context() else LANGUAGES[0]


def localize_details(details: dict[str, Any], language: str) -> dict[str, Any]:
    """``details`` with the messages under ``fields`` translated (paths and values unchanged)."""
    fields = details.get("fields")
    if language == "en" or not isinstance(fields, dict):
        return details
    return {
        **details,
        "fields": {path: _each(messages, language) for path, messages in fields.items()},
    }


def _each(messages: Any, language: str) -> Any:
    if isinstance(messages, str):
        return translate(messages, language)
    if isinstance(messages, Iterable) and not isinstance(messages, dict):
        return [translate(m, language) if isinstance(m, str) else m for m in messages]
    return messages

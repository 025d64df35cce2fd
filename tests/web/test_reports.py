"""The PDF reports of a unit and of an agency: text extracted with pypdf, scope, bad input."""

from __future__ import annotations

import io

import pytest
from PIL import ImageFile
from pypdf import PdfReader

from fieldcheck.reports.pdf import ORIGIN, RefusedFetch, local_fetcher
from tests.helpers import auth
from tests.web.conftest import pages_as
from tests.web.pages import text_of
from tests.web.units_world import UnitsWorld, build


@pytest.fixture
def world(demo) -> UnitsWorld:
    return build(demo)


def _text(response) -> str:
    reader = PdfReader(io.BytesIO(response.get_data()))
    # Words may wrap across lines in a table cell: compare with single spaces.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _images(response) -> int:
    reader = PdfReader(io.BytesIO(response.get_data()))
    return len({image.data for page in reader.pages for image in page.images})


def test_unit_report_is_an_indonesian_pdf_with_findings_citations_and_the_photo(
    world: UnitsWorld,
):
    result = (
        world.app.test_client()
        .get(f"/api/v1/units/{world.code}/result", headers=auth(world.tokens["supervisor-jatim"]))
        .get_json()
    )
    pages = pages_as(world.app, "supervisor-jatim")
    response = pages.get(f"/units/{world.code}/report.pdf?period={world.period}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="fieldcheck-{world.code}-{world.period}.pdf"'
    )
    assert "private" in response.headers["Cache-Control"]
    text = _text(response)
    assert "Laporan Hasil Penilaian Kepatuhan terhadap Standar Pelayanan Publik" in text
    assert world.name in text
    assert f"{result['score']:.2f}".replace(".", ",") in text  # the API's score, Indonesian
    assert "UU 25/2009 Pasal" in text
    assert "Sanksi: UU 25/2009 Pasal 54" in text
    assert "Rekomendasi" in text
    assert "Foto sebagai bukti" in text
    assert _images(response) == 1  # the uploaded photo's preview, embedded
    # WeasyPrint's import turns this Pillow flag on; uploads must still refuse truncated files.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False

    # In English for a reader who chose English.
    pages.post("/language", {"lang": "en", "next": "/"})
    english = _text(pages.get(f"/units/{world.code}/report.pdf"))
    assert "Report on compliance with public service standards" in english
    assert "Sanction: UU 25/2009 Pasal 54" in english
    pages.post("/language", {"lang": "id", "next": "/"})

    # The default period is the current one; a bad period is a 422 page, not a PDF.
    assert pages.get(f"/units/{world.code}/report.pdf").status_code == 200
    for bad in ("abc", "1999", str(world.period + 1)):
        refused = pages.get(f"/units/{world.code}/report.pdf?period={bad}")
        assert refused.status_code == 422
        assert refused.mimetype == "text/html"
        assert "Periode harus berupa tahun" in text_of(refused)


def test_agency_report_covers_the_agency_units_in_scope_and_no_other_region(
    world: UnitsWorld,
):
    pages = pages_as(world.app, "supervisor-jatim")
    response = pages.get(f"/agencies/{world.agency_code}/report.pdf?period={world.period}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(
        f'filename="fieldcheck-{world.agency_code}-{world.period}.pdf"'
    )
    text = _text(response)
    assert "Ringkasan" in text and world.name in text and "Pasal" in text
    # Padang's agency from East Java: 404, as an agency with no unit in scope.
    assert pages.get("/agencies/PEMKOT-13.71/report.pdf").status_code == 404
    assert pages.get("/agencies/NOPE/report.pdf").status_code == 404

    # Padang's supervisor: nothing of East Java, their own agency in full.
    sumbar = pages_as(world.app, "supervisor-sumbar")
    assert sumbar.get(f"/units/{world.code}/report.pdf").status_code == 404
    assert sumbar.get(f"/agencies/{world.agency_code}/report.pdf").status_code == 404
    own = sumbar.get("/agencies/PEMKOT-13.71/report.pdf")
    assert own.status_code == 200
    text = _text(own)
    assert "Kota Padang" in text
    assert "Sidoarjo" not in text and "Gresik" not in text and world.name not in text
    surveyor = pages_as(world.app, "surveyor-jatim")
    assert surveyor.get(f"/units/{world.code}/report.pdf").status_code == 403
    anonymous = world.app.test_client()
    anonymous.environ_base["wsgi.url_scheme"] = "https"
    assert anonymous.get(f"/units/{world.code}/report.pdf").status_code == 302


def test_the_pdf_fetcher_serves_only_the_stylesheet_and_given_photos():
    fetch = local_fetcher({"ab" * 32: b"\xff\xd8jpeg"})
    assert fetch(ORIGIN + "report.css").read().startswith(b"/*")
    assert fetch(ORIGIN + "photos/" + "ab" * 32).read() == b"\xff\xd8jpeg"
    for url in (
        ORIGIN + "photos/" + "cd" * 32,
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        ORIGIN + "../etc/passwd",
    ):
        with pytest.raises(RefusedFetch):
            fetch(url)

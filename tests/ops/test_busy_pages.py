"""A person at a page while the database is busy gets a readable 503 page in the page's
language (with Retry-After), not a 500 or a hang; the page works again once the lock goes."""

from __future__ import annotations

import pytest

from fieldcheck import create_app
from fieldcheck.demo.seed import seed_demo
from fieldcheck.extensions import db
from tests.ops.test_busy_database import _is_pg, _pg_table_lock, _sqlite_write_lock
from tests.web.conftest import pages_as
from tests.web.pages import text_of

BUSY_ID = "Layanan sedang tidak tersedia; silakan coba lagi."
BUSY_EN = "The service is temporarily unavailable; try again."


@pytest.fixture
def demo(app, tmp_path):
    """The demo world (logins, inspections waiting for review), as tests/web has it."""
    with app.app_context():
        seed_demo(tokens_file=tmp_path / "demo-tokens.txt")
        db.session.commit()
    return app


@pytest.fixture
def busy(demo, database_url):
    """The same database, served by an app with a short lock (and busy) timeout."""
    busy = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "DATABASE_LOCK_TIMEOUT_MS": 500,
            "SQLITE_BUSY_TIMEOUT_MS": 500,
        }
    )
    busy.instance_path = demo.instance_path
    # As served (TESTING re-raises errors that happen before the view instead of handling them).
    busy.config["PROPAGATE_EXCEPTIONS"] = False
    yield busy
    with busy.app_context():
        db.engine.dispose()  # its pooled connections, before the tables are emptied


def test_a_busy_database_is_a_503_page_in_the_page_language(busy, database_url):
    person = pages_as(busy, "supervisor-jatim")
    english = pages_as(busy, "supervisor-jatim")
    english.post("/language", {"lang": "en", "next": "/account"})
    assert person.get("/review").status_code == 200

    if _is_pg(database_url):
        # Inspections locked by another session: the person's session still reads (its table
        # is not locked), so the page comes in the language they chose.
        with _pg_table_lock(database_url, "inspections"):
            pages = {"id": person.get("/review"), "en": english.get("/review")}
        expected = {"id": BUSY_ID, "en": BUSY_EN}
    else:
        # SQLite's write lock held: even the web session cannot be read (the error is raised
        # before any view, where Flask offers only a 500), so the page says it in Indonesian,
        # the pages' default.
        with _sqlite_write_lock(database_url):
            pages = {"id": person.get("/review"), "en": english.get("/review")}
        expected = {"id": BUSY_ID, "en": BUSY_ID}

    for lang, page in pages.items():
        assert page.status_code == 503, text_of(page)[:500]
        assert page.mimetype == "text/html"
        assert int(page.headers["Retry-After"]) > 0
        assert expected[lang] in text_of(page)
        assert "(unavailable)" in text_of(page)
        assert "Traceback" not in text_of(page)

    # The lock is gone: the same people read the page again.
    assert person.get("/review").status_code == 200
    assert english.get("/review").status_code == 200

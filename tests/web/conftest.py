"""Fixtures for the web app: the demo world, a logged-in test client, a live server and a real
headless Chromium (Debian's chromium + chromium-driver, installed by ``make test``)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from fieldcheck.demo.seed import seed_demo
from fieldcheck.extensions import db
from tests.web.pages import Pages

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("FIELDCHECK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FIELDCHECK_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def demo(app: Flask, tmp_path: Path) -> Flask:
    """The demo world of ``make run``: units, users with logins, inspections, zones."""
    with app.app_context():
        seed_demo(tokens_file=tmp_path / "demo-tokens.txt")
        db.session.commit()
    return app


@pytest.fixture
def pages(app: Flask) -> Pages:
    """A test client that reads pages as a browser does (HTTPS, cookies, CSRF tokens)."""
    return Pages(app.test_client())


def pages_as(app: Flask, username: str) -> Pages:
    """A new client logged in as ``username`` (a demo login unless made otherwise)."""
    client = Pages(app.test_client())
    client.login(username)
    return client


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free port (a thread), for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (shutil.which(path) or Path(path).exists()):
            return f"{path} is missing (Debian packages chromium and chromium-driver)"
    return None


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium driven by ChromeDriver (selenium), at 1366x768 like an office laptop."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("FIELDCHECK_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required but {missing}")
        pytest.skip(f"browser tests skipped: {missing}; `make test` installs them as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,768",
        "--lang=id-ID",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(ROOT / "test-output" / "downloads")}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium, live_server: str):
    """The browser with no cookies, and the live server's address as ``browser.base``."""
    chromium.delete_all_cookies()
    chromium.set_window_size(1366, 768)
    chromium.base = live_server
    yield chromium
    chromium.delete_all_cookies()


def shot(driver, name: str) -> Path:
    """Save a screenshot of the whole page as test-output/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(height + 100, 600), 6000))
    driver.save_screenshot(str(path))
    driver.set_window_size(width, 768)
    return path


def axe_violations(driver) -> list[dict]:
    """axe-core's serious and critical violations on the current page (vendored axe-core)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)))"
        ".catch(e => done(JSON.stringify("
        "[{id: 'axe-error', impact: 'critical', help: String(e)}])));"
    )
    return [v for v in json.loads(result) if v.get("impact") in ("serious", "critical")]


def assert_accessible(driver) -> None:
    """No serious or critical axe-core violation on the current page."""
    bad = axe_violations(driver)
    assert not bad, [
        (v["id"], v.get("help"), [n.get("target") for n in v.get("nodes", [])][:5]) for v in bad
    ]


def waiting(driver, seconds: int = 30):
    """A WebDriverWait that keeps waiting while the page is being replaced: an element the
    condition reads may go stale (or ChromeDriver may say its node "does not belong to the
    document") between finding and reading it. Only the timeout fails the wait."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,))


def login(driver, username: str, password: str | None = None) -> None:
    """Log in through the login form like a person."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from fieldcheck.demo.seed import DEMO_PASSWORD

    driver.get(driver.base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password or DEMO_PASSWORD)
    button = driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary")
    button.click()

    # The click returns before the next page has loaded: wait for the login page to go. While
    # the page is being replaced ChromeDriver may answer "Node with given id does not belong to
    # the document" instead of a stale-element error; both mean the old form is gone.
    def form_gone(_driver) -> bool:
        try:
            button.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 30).until(form_gone)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )

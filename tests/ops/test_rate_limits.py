"""Rate limits (Flask-Limiter): per token, per address without one, stricter for refused tokens;
429 in the one envelope with Retry-After (API) or as a page in the page's language."""

from __future__ import annotations

import pytest

from fieldcheck import create_app
from fieldcheck.extensions import db
from tests.helpers import auth, post_json


def test_per_token_budget_gives_429_with_retry_after_in_the_envelope(app, client, factory):
    app.config["RATELIMIT_PER_TOKEN"] = "3 per minute"
    _, token = factory.user("supervisor", "35")
    _, other = factory.user("supervisor", "35")
    statuses = [client.get("/api/v1/status", headers=auth(token)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get("/api/v1/inspections", headers=auth(token))  # any endpoint: shared
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert set(refused.get_json()["error"]) == {"code", "message", "details"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    indonesian = client.get("/api/v1/status", headers={**auth(token), "Accept-Language": "id"})
    assert (
        indonesian.status_code == 429
        and "Terlalu banyak" in indonesian.get_json()["error"]["message"]
    )
    # Another token from the same address has its own budget (the benchmark's many phones).
    assert client.get("/api/v1/status", headers=auth(other)).status_code == 200
    # The health probe is never limited.
    assert client.get("/healthz").status_code == 200


def test_many_tokens_from_one_address_are_not_one_bucket(app, client, factory):
    app.config["RATELIMIT_PER_TOKEN"] = "5 per minute"
    app.config["RATELIMIT_PER_ADDRESS"] = "5 per minute"
    tokens = [factory.user("surveyor", "35")[1] for _ in range(4)]
    for _ in range(5):
        for token in tokens:
            assert client.get("/api/v1/status", headers=auth(token)).status_code == 200


def test_anonymous_requests_count_per_address(app, client):
    app.config["RATELIMIT_PER_ADDRESS"] = "2 per minute"
    assert [client.get("/api/v1/status").status_code for _ in range(2)] == [401, 401]
    refused = client.get("/api/v1/status")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    other = client.get("/api/v1/status", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401


def test_refused_tokens_have_a_small_budget_per_address(app, client, factory):
    app.config["RATELIMIT_FAILED_AUTH"] = "3 per minute"
    _, good = factory.user("surveyor", "35")
    for n in range(3):
        guessed = client.get("/api/v1/status", headers=auth(f"fc_guess{n}"))
        assert guessed.status_code == 401
    refused = client.get("/api/v1/status", headers=auth("fc_guess9"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # The address waits, whatever it presents; other addresses are not affected.
    assert client.get("/api/v1/status", headers=auth(good)).status_code == 429
    elsewhere = client.get(
        "/api/v1/status", headers=auth(good), environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert elsewhere.status_code == 200


def test_good_tokens_and_no_token_do_not_use_the_failed_budget(app, client, factory):
    app.config["RATELIMIT_FAILED_AUTH"] = "2 per minute"
    _, good = factory.user("surveyor", "35")
    for _ in range(5):
        assert client.get("/api/v1/status", headers=auth(good)).status_code == 200
        assert client.get("/api/v1/status").status_code == 401  # no credentials: not a guess


def test_pages_get_a_readable_429_in_the_page_language(app, client):
    app.config["RATELIMIT_PER_ADDRESS"] = "1 per minute"
    assert client.get("/login").status_code == 200
    refused = client.get("/login", headers={"Accept": "text/html"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    page = refused.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html") and 'lang="id"' in page
    assert "Terlalu banyak" in page


def _second_app(database_url: str, **config):
    """Another app on the test database; its connections are closed after the test."""
    other = create_app({"DATABASE_URL": database_url, "TESTING": True, **config})
    yield other
    with other.app_context():
        db.engine.dispose()  # PostgreSQL: the suite's cleanup must not wait on these


@pytest.fixture
def proxied(database_url, app):
    """The app behind one trusted proxy (nginx), on the same database."""
    yield from _second_app(database_url, TRUSTED_PROXIES=1)


@pytest.fixture
def quiet(database_url, app):
    """The app with rate limits turned off (as a benchmark may run it)."""
    yield from _second_app(
        database_url, RATELIMIT_ENABLED=False, RATELIMIT_FAILED_AUTH="1 per minute"
    )


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(proxied, app):
    proxied.config["RATELIMIT_PER_ADDRESS"] = "1 per minute"
    client = proxied.test_client()
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert client.get("/api/v1/status", headers=first).status_code == 401
    assert client.get("/api/v1/status", headers=first).status_code == 429
    # A different client behind the same proxy has its own budget.
    assert (
        client.get("/api/v1/status", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 401
    )
    # A client's own X-Forwarded-For is one hop further out than trusted: it is not believed.
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert client.get("/api/v1/status", headers=spoofed).status_code == 429


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client):
    app.config["RATELIMIT_PER_ADDRESS"] = "1 per minute"
    assert (
        client.get("/api/v1/status", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 401
    )
    assert (
        client.get("/api/v1/status", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429
    )


def test_limits_can_be_turned_off(quiet):
    client = quiet.test_client()
    statuses = {client.get("/api/v1/status", headers=auth("fc_x")).status_code for _ in range(4)}
    assert statuses == {401}


def test_a_bad_limit_in_the_configuration_fails_at_start(database_url):
    from fieldcheck.config import ConfigError

    with pytest.raises(ConfigError, match="RATELIMIT_PER_TOKEN"):
        create_app({"DATABASE_URL": database_url, "RATELIMIT_PER_TOKEN": "lots"})


def test_intake_is_counted_per_token(app, client, factory):
    """Submissions from one phone count against its token only (and still succeed)."""
    app.config["RATELIMIT_PER_TOKEN"] = "2 per minute"
    factory.units()
    _, token = factory.user("surveyor", "35")
    bodies = [factory.all_yes_submission() for _ in range(3)]
    statuses = [post_json(client, "/api/v1/inspections", b, token).status_code for b in bodies]
    assert statuses == [201, 201, 429]

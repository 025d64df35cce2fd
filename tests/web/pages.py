"""A logged-in person's view of the pages through Flask's test client (HTTPS, like a browser)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from fieldcheck.demo.seed import DEMO_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Pages:
    """GET and POST pages as one person; POSTs carry the CSRF token of the last page read."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        # The session cookie is Secure: the test client must speak "https" to get it back.
        self.client.environ_base["wsgi.url_scheme"] = "https"
        self.token: str | None = None

    def get(self, url: str, **kwargs: Any):
        """GET ``url``; remembers the page's CSRF token for the next POST."""
        response = self.client.get(url, **kwargs)
        found = (
            _CSRF.search(response.get_data(as_text=True))
            if response.mimetype == "text/html"
            else None
        )
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs):
        """POST a form to ``url`` (with the CSRF token unless ``csrf`` is False)."""
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD):
        """Log in; returns the response to the login POST (a redirect on success)."""
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.get("/account")  # a fresh token: login gave the session a new id
        return response

    def logout(self):
        """Log out."""
        return self.post("/logout")


def text_of(response) -> str:
    """The page's HTML as text."""
    return response.get_data(as_text=True)

"""Every page is guarded the same way: login, role, CSRF on every form (a walk of url_map)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from jinja2 import Environment
from sqlalchemy import func, select

from fieldcheck.extensions import db
from fieldcheck.web.access import page_role  # noqa: F401 - the guard these tests hold to
from tests.web.pages import Pages

#: Pages anyone may open: logging in, the language switch, assets, the password change (which
#: checks the login itself, so a must-change user can reach it).
OPEN = {"web.login", "web.logout", "web.set_language", "web.static", "web.change_password"}
#: The zones' colours (generated from the zone catalogue, issue 16) are an asset too.
OPEN |= {"web.zones_css"}
SAMPLE_VALUES = {"int": "1", "default": "X", "string": "X", "path": "X"}


def _page_rules(app: Flask):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("web.")]


def _url(rule) -> str:
    def fill(match: re.Match) -> str:
        converter = match.group(1) or "default"
        return SAMPLE_VALUES.get(converter, "X")

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?[a-z_0-9]+>", fill, rule.rule)


def test_every_page_is_guarded_by_page_role(app: Flask):
    unguarded = [
        r.endpoint
        for r in _page_rules(app)
        if r.endpoint not in OPEN
        and not getattr(app.view_functions[r.endpoint], "required_roles", None)
    ]
    assert not unguarded, f"page views without @page_role: {unguarded}"


def test_anonymous_visitors_are_sent_to_the_login(demo, pages: Pages):
    for rule in _page_rules(demo):
        if rule.endpoint in OPEN or "GET" not in rule.methods:
            continue
        url = _url(rule)
        response = pages.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_surveyors_get_a_403_page_where_their_role_may_not_go(demo):
    surveyor = Pages(demo.test_client())
    surveyor.login("surveyor-jatim")
    for rule in _page_rules(demo):
        roles = getattr(demo.view_functions[rule.endpoint], "required_roles", ())
        if rule.endpoint in OPEN or "GET" not in rule.methods or "surveyor" in roles:
            continue
        response = surveyor.get(_url(rule))
        assert response.status_code == 403, rule.rule
        assert response.mimetype == "text/html"


def _row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
            if table.name != "web_sessions"
        }


def test_every_form_refuses_a_missing_csrf_token(demo):
    admin = Pages(demo.test_client())
    admin.login("admin")
    before = _row_counts(demo)
    posts = [r for r in _page_rules(demo) if "POST" in r.methods]
    assert any(r.endpoint == "web.login" for r in posts)
    for rule in posts:
        response = admin.post(_url(rule), {"reason": "x", "decision": "approve"}, csrf=False)
        assert response.status_code == 400, rule.rule
        assert "Muat ulang halaman" in response.get_data(as_text=True), rule.rule
    assert _row_counts(demo) == before


#: Words that stay as they are in every language: names, the language switch's own names, the
#: name printed on a key.
UNTRANSLATED = {"fieldcheck", "Ombudsman RI", "English", "Bahasa Indonesia", "Enter"}
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_LABEL = re.compile(r'\b(?:alt|title|aria-label|placeholder)="([^"\x00]*[A-Za-z][^"\x00]*)"')


def _bare_words(env: Environment, source: str) -> list[str]:
    """Text in a template's HTML (not in a ``{{ }}`` expression) that a reader would see."""
    # Each Jinja expression or statement becomes one NUL, so a tag cut by an expression is
    # still one tag to strip and text around an expression stays two separate words.
    html = "".join(value if kind == "data" else "\x00" for _, kind, value in env.lex(source))
    bare = _LABEL.findall(html)
    for chunk in re.split(r"\x00|\s{2,}|\n", _TAG.sub("  ", html)):
        if chunk.strip().startswith("/"):
            continue  # a URL path written out in a macro ("/regions/{{ code }}")
        chunk = chunk.strip(" ()|:,.;/·–")
        if re.search(r"[A-Za-z]{2,}", chunk) and chunk not in UNTRANSLATED:
            bare.append(chunk)
    return bare


def test_templates_have_no_text_outside_the_catalogue(app: Flask):
    """Words in templates go through ``_()``: a bare word would stay English (or Indonesian) for
    every reader."""
    env: Environment = app.jinja_env
    bare = [
        (name, word)
        for name in env.list_templates(filter_func=lambda n: n.endswith(".html"))
        for word in _bare_words(env, env.loader.get_source(env, name)[0])
    ]
    assert not bare, bare


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("<h2>Units</h2>", ["Units"]),
        ('<img alt="Photo" src="{{ x }}">', ["Photo"]),
        ('<h2>{{ _("Units") }}</h2> <span>fieldcheck</span>', []),
    ],
)
def test_the_template_scan_finds_bare_text(app: Flask, text: str, found: list[str]):
    assert _bare_words(app.jinja_env, text) == found


def test_every_page_sends_the_security_headers(demo):
    admin = Pages(demo.test_client())
    admin.login("admin")
    pages = [r.rule for r in _page_rules(demo) if "GET" in r.methods and "<" not in r.rule]
    assert len(pages) >= 8
    for url in [*pages, "/no-such-page"]:
        response = admin.get(url)
        assert response.mimetype == "text/html", url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert "no-store" in response.headers["Cache-Control"], url

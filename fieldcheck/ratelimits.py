"""Rate limits on every request (Flask-Limiter), and the client address they count by.

The budgets themselves are ``extensions.limiter``'s default limits (per token, per address, per
address for refused tokens); this module binds the limiter to an app, trusts the configured
number of reverse proxies for the client address (``TRUSTED_PROXIES``), and answers a breach with
the one error envelope (or the page, in a browser) and ``Retry-After``.
"""

from __future__ import annotations

import math
import time

from flask import Flask
from flask_limiter import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldcheck.errors import error_response
from fieldcheck.extensions import limiter


def init_app(app: Flask) -> None:
    """Trust ``TRUSTED_PROXIES`` proxies' X-Forwarded-For/-Proto; bind the limiter; answer 429."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the last N hops are believed: a client cannot pick its own address by sending an
        # X-Forwarded-For of its own, since each trusted proxy appends the address it saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def too_many(_exc: RateLimitExceeded):
        response = error_response("rate_limited")
        response.headers["Retry-After"] = str(retry_after())
        return response


def retry_after() -> int:
    """Whole seconds until the breached budget's window resets (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    # ``window`` is (reset time, remaining); ``reset_at`` rounds up one second more.
    return max(1, math.ceil(breached.window[0] - time.time()))

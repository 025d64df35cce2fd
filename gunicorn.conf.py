"""gunicorn settings read from the working directory (``make run`` and any deployment started here).

gunicorn refuses an over-long request line (414) or header (431), and a malformed request (400),
before the app sees it, with an HTML page of its own. api.md: never an HTML error page on /api/
paths, so those answers are the one JSON envelope too.
"""

from gunicorn import util

from fieldcheck.errors import http_error_response


def _write_error(sock, status_int, reason, mesg):  # gunicorn.util.write_error's signature
    util.write_nonblock(sock, http_error_response(int(status_int), reason))


util.write_error = _write_error

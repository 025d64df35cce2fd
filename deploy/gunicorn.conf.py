"""gunicorn settings for fieldcheck: ``gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'``.

Command-line options override these (``make run`` passes --bind and --workers). The defaults are
the README's production shape: a few workers with threads each, behind nginx (deploy/nginx).
"""

from __future__ import annotations

import os

bind = os.environ.get("FIELDCHECK_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("FIELDCHECK_WORKERS", "2"))
threads = int(os.environ.get("FIELDCHECK_THREADS", "4"))
worker_class = "gthread"
# A request slower than this is a stuck worker: gunicorn kills and replaces it.
timeout = 60
graceful_timeout = 20

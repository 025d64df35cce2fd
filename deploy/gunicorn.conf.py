"""gunicorn settings for fieldcheck: ``gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'``.

Command-line options override these (``make run`` passes --bind and --workers). The defaults are
the README's production shape: a few workers with threads each, behind nginx (deploy/nginx).

Metrics: every worker writes its Prometheus samples to files in ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` sums them. When the variable is not set, a private directory is made here for this
server (and removed when it stops); a deployment sets it (the systemd unit) so the scheduler
process writes to the same directory. Files of processes no longer running are removed at start,
and a worker that exits is marked dead (its live gauges drop out; its counts stay in the sums).

Refusals: gunicorn answers an over-long request line (414) or header (431) and a malformed
request (400) before the app sees it, with an HTML page of its own. api.md: never an HTML error
page on /api/ paths, so those answers are the one JSON envelope too (``_write_error`` below).

Logs: the app writes one JSON line per request (logger ``fieldcheck.request``, with the request
id, route, status, duration and user id). gunicorn's access log is off (``accesslog`` unset) in
its favour: it would repeat each request without the id or the user, and with the query string.
gunicorn's own messages (boot, worker exits) go through the same formatter (``log_format``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports prometheus_client: it picks its storage (files or memory) at import.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _private = tempfile.mkdtemp(prefix="fieldcheck-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _private
    atexit.register(shutil.rmtree, _private, True)

from gunicorn import util  # noqa: E402

from fieldcheck.config import load_config  # noqa: E402 - after the variable above
from fieldcheck.errors import http_error_response  # noqa: E402

bind = os.environ.get("FIELDCHECK_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("FIELDCHECK_WORKERS", "2"))
threads = int(os.environ.get("FIELDCHECK_THREADS", "4"))
worker_class = "gthread"
# A request slower than this is a stuck worker: gunicorn kills and replaces it.
timeout = 60
graceful_timeout = 20

# The app's configuration decides the log format of gunicorn's own lines too (a bad config
# fails here, before any worker starts, with the message that names the key).
_config = load_config(instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "fieldcheck": {
            "()": "fieldcheck.observability.make_formatter",
            "log_format": _config["LOG_FORMAT"],
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "fieldcheck",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": _config["LOG_LEVEL"], "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}


def on_starting(_server) -> None:
    """Remove metric files of processes that no longer run (a previous server's workers)."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


def child_exit(_server, worker) -> None:
    """A worker ended: its live gauges leave the sums (prometheus_client multi-process mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _write_error(sock, status_int, reason, mesg) -> None:  # gunicorn.util.write_error's signature
    util.write_nonblock(sock, http_error_response(int(status_int), reason))


util.write_error = _write_error

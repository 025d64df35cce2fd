"""deploy/nginx/fieldcheck.conf in a real nginx (self-signed certificate, ports moved to free
ones): TLS, HTTP -> HTTPS, the headers the app receives, body limits, /metrics kept inside, and a
submission and a photo through nginx into a real gunicorn.

Skipped with the reason when nginx is not installed (``apt-get install nginx``): installing it
on every developer's machine would leave a web server behind, so ``make test`` does not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.helpers import auth, multipart
from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "fieldcheck.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
OPENSSL = shutil.which("openssl")
MIME_TYPES = Path("/etc/nginx/mime.types")

pytestmark = pytest.mark.skipif(
    NGINX is None or OPENSSL is None,
    reason="nginx (and openssl) not installed: `apt-get install nginx` to test deploy/nginx",
)


class Nginx:
    """The repository's site config in a throw-away nginx prefix, in front of ``upstream``."""

    def __init__(self, tmp: Path, upstream_port: int) -> None:
        self.tmp = tmp
        self.http_port, self.https_port = free_port(), free_port()
        self.https = f"https://localhost:{self.https_port}"
        self.http = f"http://localhost:{self.http_port}"
        self.cert = tmp / "cert.pem"
        subprocess.run(  # noqa: S603 - openssl with fixed arguments
            [
                OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                "-keyout", str(tmp / "key.pem"), "-out", str(self.cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        site = SITE.read_text()
        replacements = [
            (r"server 127\.0\.0\.1:5000", f"server 127.0.0.1:{upstream_port}"),
            (r"\n\s*listen \[::\]:\d+[^\n]*", ""),
            (r"listen 80\b", f"listen 127.0.0.1:{self.http_port}"),
            (r"listen 443\b", f"listen 127.0.0.1:{self.https_port}"),
            (r"fieldcheck\.example\.go\.id", "localhost"),
            (r"/etc/letsencrypt/live/localhost/fullchain\.pem", str(self.cert)),
            (r"/etc/letsencrypt/live/localhost/privkey\.pem", str(tmp / "key.pem")),
            (r"/var/log/nginx/", f"{tmp}/"),
        ]
        for pattern, replacement in replacements:
            site, count = re.subn(pattern, replacement, site)
            assert count, f"deploy/nginx/fieldcheck.conf no longer has {pattern!r}"
        (tmp / "site.conf").write_text(site)
        user = "user root;" if os.geteuid() == 0 else ""  # workers write the prefix's temp dirs
        mime = f"include {MIME_TYPES};" if MIME_TYPES.exists() else ""
        temps = " ".join(
            f"{kind}_temp_path {tmp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            f"{user}\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{ {mime} access_log {tmp}/access.log; {temps} include {tmp}/site.conf; }}\n"
        )
        self.args = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
        self.process: subprocess.Popen | None = None

    def check(self) -> subprocess.CompletedProcess:
        """``nginx -t``: the configuration parses and the certificate loads."""
        return subprocess.run([*self.args, "-t"], capture_output=True, text=True)  # noqa: S603

    def start(self) -> Nginx:
        """Run nginx in the foreground and wait for both ports."""
        self.process = subprocess.Popen(  # noqa: S603 - the system's nginx, our config
            [*self.args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        for port in (self.http_port, self.https_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(self.process.stderr.read().decode()) from None
                    time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGTERM), then wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        if self.process is not None:
            self.process.stderr.close()

    def get(self, path: str, **kwargs) -> requests.Response:
        """An HTTPS GET that checks the certificate (no redirects followed)."""
        return requests.get(
            self.https + path, verify=str(self.cert), allow_redirects=False, timeout=30, **kwargs
        )


class Echo(BaseHTTPRequestHandler):
    """An upstream that answers with the path, headers and body length it received."""

    seen: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = 0
        while received < length:
            chunk = self.rfile.read(min(65536, length - received))
            if not chunk:
                break
            received += len(chunk)
        Echo.seen.append(self.path)
        body = json.dumps(
            {"path": self.path, "headers": dict(self.headers.items()), "body_bytes": received}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's method names

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet."""


@pytest.fixture
def echo_upstream() -> Iterator[int]:
    """The echo upstream on a free port."""
    Echo.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def nginx(tmp_path: Path):
    """``nginx(upstream_port)`` -> a started Nginx; stopped after the test."""
    started: list[Nginx] = []

    def start(upstream_port: int) -> Nginx:
        prefix = tmp_path / f"nginx-{len(started)}"
        prefix.mkdir()
        server = Nginx(prefix, upstream_port)
        checked = server.check()
        assert checked.returncode == 0, checked.stderr
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def test_tls_redirect_and_the_headers_the_app_receives(nginx, echo_upstream):
    proxy = nginx(echo_upstream)

    redirect = requests.get(proxy.http + "/healthz?x=1", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://localhost/healthz?x=1"

    # The client's own X-Forwarded-For and X-Request-ID are replaced, not trusted.
    answer = proxy.get(
        "/api/v1/status", headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "forged"}
    )
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    seen = {k.lower(): v for k, v in answer.json()["headers"].items()}
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "https"
    assert seen["host"] == "localhost"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["x-request-id"])


def test_requests_for_other_names_are_dropped(nginx, echo_upstream):
    proxy = nginx(echo_upstream)
    with pytest.raises(requests.ConnectionError):
        requests.get(proxy.http + "/", headers={"Host": "attacker.example"}, timeout=10)
    assert Echo.seen == []


def test_metrics_never_reach_the_app_from_outside(nginx, echo_upstream):
    proxy = nginx(echo_upstream)
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/./metrics?x=1"):
        assert proxy.get(path).status_code == 404, path
    assert Echo.seen == []


def test_a_photo_sized_body_passes_and_a_larger_one_is_refused(nginx, echo_upstream):
    proxy = nginx(echo_upstream)
    photo = b"\xff" * (15 * 1024 * 1024 + 60 * 1024)  # photo_max_bytes + multipart envelope
    passed = requests.post(
        proxy.https + "/api/v1/photos", data=photo, verify=str(proxy.cert), timeout=60
    )
    assert passed.status_code == 200
    assert passed.json()["body_bytes"] == len(photo)
    refused = requests.post(
        proxy.https + "/api/v1/photos",
        data=b"\xff" * (17 * 1024 * 1024),
        verify=str(proxy.cert),
        timeout=60,
    )
    assert refused.status_code == 413


def test_collect_submissions_fit_and_their_key_stays_out_of_the_access_log(nginx, echo_upstream):
    proxy = nginx(echo_upstream)
    key = "fc_collect_key_that_must_not_be_logged"
    # What the app announces to Collect (X-OpenRosa-Accept-Content-Length) must pass nginx.
    announced = 1_048_576 + 15 * 1_048_576 + 64 * 1024
    passed = requests.post(
        f"{proxy.https}/openrosa/key/{key}/submission",
        data=b"\xff" * announced,
        verify=str(proxy.cert),
        timeout=60,
    )
    assert passed.status_code == 200
    assert passed.json()["body_bytes"] == announced
    assert proxy.get(f"/openrosa/key/{key}/formList?formID=x").status_code == 200
    # The upstream (the app) gets the real path: it needs the key.
    assert f"/openrosa/key/{key}/formList?formID=x" in Echo.seen
    proxy.stop()  # nginx writes its log lines out when it stops
    log = (proxy.tmp / "fieldcheck.access.log").read_text()
    assert key not in log
    assert '"POST /openrosa/key/<redacted>/submission HTTP/1.1" 200' in log
    assert "/openrosa/key/<redacted>/formList?formID=x" in log


def test_a_submission_and_a_photo_through_nginx_into_gunicorn(nginx, gunicorn, factory):
    from tests.evidence.images import jpeg

    factory.units()
    _, token = factory.user("surveyor", "35")
    server = gunicorn()
    proxy = nginx(int(server.url.rsplit(":", 1)[1]))

    body, content_type = multipart(jpeg(size=(64, 48), seed=4242))
    photo = requests.post(
        proxy.https + "/api/v1/photos",
        data=body,
        headers={**auth(token), "Content-Type": content_type},
        verify=str(proxy.cert),
        timeout=60,
    )
    assert photo.status_code == 201, photo.text
    submitted = requests.post(
        proxy.https + "/api/v1/inspections",
        json=factory.submission(),
        headers=auth(token),
        verify=str(proxy.cert),
        timeout=60,
    )
    assert submitted.status_code == 201, submitted.text
    assert proxy.get("/healthz").status_code == 200

"""Real gunicorn for tests: the app served as in production, on the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`` on a free port.

    ``settings`` become ``FIELDCHECK_*`` environment variables (the app's own config layer), so
    the served app reads the test database and whatever a test configures, as an operator would.
    """

    def __init__(
        self,
        database_url: str,
        instance: Path,
        *,
        workers: int = 2,
        threads: int = 4,
        settings: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = instance / f"gunicorn-{self.port}.log"
        instance.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "FIELDCHECK_DATABASE_URL": database_url,
            "FIELDCHECK_PHOTO_DIR": str(instance / "photos"),
            "FIELDCHECK_SECRET_KEY": "test-secret-key-for-gunicorn",
            **{f"FIELDCHECK_{k.upper()}": v for k, v in (settings or {}).items()},
            **(env or {}),
        }
        self.args = [
            str(GUNICORN),
            "-c",
            str(CONFIG),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "app:create_app()",
        ]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90, *, healthy: bool = True) -> Gunicorn:
        """Start and wait until /healthz answers (with any status when ``healthy`` is False:
        a server on a database that is down answers 503 "degraded"). Booting the app takes a
        few seconds; ``timeout`` is generous for a machine busy with other work."""
        self._out = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn
            self.args, cwd=ROOT, env=self.env, stdout=self._out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                status = requests.get(self.url + "/healthz", timeout=2).status_code
                if status < 500 or not healthy:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout}s: {self.output()}")

    def output(self) -> str:
        """What gunicorn and the app logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-5000:]

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (children of the master)."""
        assert self.process is not None  # noqa: S101
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in children.read_text().split()] if children.exists() else []

    def kill9(self) -> None:
        """SIGKILL the master and its workers at once, as a crash would."""
        assert self.process is not None  # noqa: S101
        for pid in [*self.worker_pids(), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.kill9()
        if getattr(self, "_out", None) is not None:
            self._out.close()

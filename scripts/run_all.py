"""``make run``: the scheduler in the background and gunicorn in the foreground, stopped together.

The scheduler is its own process (never inside web workers); this wrapper only starts both so a
demo user sees runs POSTed to /api/v1/zoning-runs finish. Ctrl-C or SIGTERM stops both.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main(argv: list[str]) -> int:
    """Start ``flask scheduler``, then gunicorn with ``argv``; stop the scheduler when it ends."""
    scheduler = subprocess.Popen([str(BIN / "flask"), "--app", "app", "scheduler"])  # noqa: S603
    web = subprocess.Popen([str(BIN / "gunicorn"), *argv])  # noqa: S603

    def forward(signum: int, _frame: object) -> None:
        web.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    try:
        code = web.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the whole group; wait for gunicorn's graceful stop.
        code = web.wait()
    finally:
        if scheduler.poll() is None:
            scheduler.terminate()
        try:
            scheduler.wait(timeout=20)
        except subprocess.TimeoutExpired:
            scheduler.kill()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

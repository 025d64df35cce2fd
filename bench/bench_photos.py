"""Photo upload: throughput (MB/s) and peak memory, 10 MB vs 100 KB, through the real app.

Baseline, measured in the same run: a plain file copy of the same bytes (what the disk alone
costs). Memory: tracemalloc peak (Python allocations) during one upload, and the growth of the
process's peak RSS (includes Pillow's native buffers) after the large uploads.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from PIL import Image

BOUNDARY = "fieldcheck-bench-boundary"


def _jpeg(target_bytes: int, seed: int) -> bytes:
    """A noisy JPEG of about ``target_bytes`` (noise barely compresses, like a sharp photo)."""
    rng = random.Random(seed)
    side = 64
    while True:
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95)
        size = out.tell()
        if size >= target_bytes * 0.95:
            return out.getvalue()
        side = int(side * min(2.0, (target_bytes / size) ** 0.5 * 1.02)) + 1


def _variant(jpeg: bytes, n: int) -> bytes:
    """The same image with a different JPEG comment: new SHA-256, same decoding work."""
    comment = f"bench {n}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return jpeg[:2] + segment + jpeg[2:]


def _body_file(folder: Path, data: bytes, n: int) -> Path:
    path = folder / f"body-{n}"
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    path.write_bytes(head + data + f"\r\n--{BOUNDARY}--\r\n".encode())
    return path


def _post(client, token: str, body: Path) -> int:
    with body.open("rb") as fh:
        response = client.post(
            "/api/v1/photos",
            input_stream=fh,
            content_length=body.stat().st_size,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers={"Authorization": f"Bearer {token}"},
        )
        status = response.status_code
        response.close()
    if status != 201:
        raise RuntimeError(f"upload failed: {status}")
    return status


def _copy(src: Path, dst: Path) -> None:
    with src.open("rb") as a, dst.open("wb") as b:
        shutil.copyfileobj(a, b, 256 * 1024)
        b.flush()
        os.fsync(b.fileno())  # the app fsyncs too: compare like with like


#: Run in a fresh interpreter, so its peak RSS is the app's alone (not this bench's test data).
_CHILD = """
import sys
from pathlib import Path
from fieldcheck import create_app
from bench.bench_photos import _post, _hwm_kb
app = create_app({"DATABASE_URL": sys.argv[1], "TESTING": True})
app.instance_path = sys.argv[2]
client = app.test_client()
before = _hwm_kb()
_post(client, sys.argv[3], Path(sys.argv[4]))
print(before, _hwm_kb())
"""


def _hwm_kb() -> int:
    """This process's peak RSS (VmHWM; unlike ru_maxrss it is not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _child_rss_kb(db_url: str, instance: str, token: str, body: Path) -> tuple[int, int]:
    """Peak RSS (KB) of a fresh app process before and after one upload of ``body``."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _CHILD, db_url, instance, token, str(body)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.split()
    return int(out[0]), int(out[1])


def main(quick: bool = False) -> None:
    """Upload N distinct photos of each size; print MB/s, ratio to a file copy, peak memory."""
    from fieldcheck import create_app
    from fieldcheck.auth.services import create_user
    from fieldcheck.extensions import db

    work = Path(tempfile.mkdtemp(prefix="fieldcheck-bench-photos-"))
    try:
        db_url = f"sqlite:///{work / 'bench.db'}"
        app = create_app({"DATABASE_URL": db_url, "TESTING": True})
        app.instance_path = str(work / "instance")
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            _, token = create_user("Bench Surveyor", "surveyor", None)
            db.session.commit()
        client = app.test_client()
        sizes = [("100 KB", 100_000, 10 if quick else 40), ("10 MB", 10_000_000, 2 if quick else 6)]
        rows = []
        rss: list[tuple[int, int]] = []
        for label, target, count in sizes:
            base = _jpeg(target, seed=target)
            bodies = [_body_file(work, _variant(base, n), n) for n in range(count + 2)]
            rss_before, rss_after = _child_rss_kb(db_url, app.instance_path, token, bodies.pop())
            # Warm-up and memory: one upload under tracemalloc (it slows Python, so not timed).
            tracemalloc.start()
            _post(client, token, bodies[0])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            started = time.perf_counter()
            for body in bodies[1:]:
                _post(client, token, body)
            upload_s = time.perf_counter() - started
            started = time.perf_counter()
            for n, body in enumerate(bodies[1:]):
                _copy(body, work / f"copy-{n}")
            copy_s = time.perf_counter() - started
            megabytes = len(base) * count / 1e6
            rows.append((label, len(base), count, megabytes / upload_s, megabytes / copy_s, peak))
            rss.append((rss_before, rss_after))
            for path in work.glob("copy-*"):
                path.unlink()
            for body in bodies:
                body.unlink()

        print(
            f"  {'photo':>7} {'bytes':>10} {'n':>3} {'upload MB/s':>12} {'copy MB/s':>10} "
            f"{'ratio':>6} {'peak Python mem':>16}"
        )
        for label, size, count, up, cp, peak in rows:
            print(
                f"  {label:>7} {size:>10} {count:>3} {up:>12.1f} {cp:>10.1f} "
                f"{up / cp:>6.2f} {peak / 1024:>13.0f} KB"
            )
        for (label, *_), (before, after) in zip(rows, rss, strict=True):
            print(
                f"  fresh app process, one {label} upload: peak RSS {before / 1024:.0f} MB -> "
                f"{after / 1024:.0f} MB (+{(after - before) / 1024:.1f} MB, incl. Pillow's buffers)"
            )
        small, large = rows[0][5], rows[1][5]
        print(
            f"  peak memory 10 MB / 100 KB photo: {large / small:.2f}x for a "
            f"{rows[1][1] / rows[0][1]:.0f}x larger file (flat = streaming works)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

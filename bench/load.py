"""Reusable load for intake: realistic checklists and a bounded closed-loop HTTP load generator.

Used by ``bench/bench_intake.py`` (``make bench``) and meant for soak and crash tests too, so the
pieces are independent of each other:

- :func:`prepare_world` (inside an app context): synthetic units in the demo regions, each
  offering five services, and surveyors with their own tokens (one province each).
- :class:`ChecklistFactory`: deterministic checklist bodies. Visit ``k`` of surveyor ``s`` is
  always the same body, so a run can be repeated and a crash test can tell what it sent.
- :func:`upload_photos`: the photos a set of visits cites, uploaded first (as a phone does), so
  those checklists arrive with their evidence already received.
- :func:`run_closed_loop`: N clients, each with its own keep-alive connection and token, each
  sending its next request when the previous answer is in; bounded by a request count per
  client and/or a duration. Every request's latency and status is recorded, transport errors
  included (a crash test kills the server under load).
- :func:`raw_insert_baseline`: the storage limit, i.e. the same bodies inserted as raw JSON into
  a scratch table of the same database, one transaction each, at the same concurrency.

How "~60 answers" maps onto the shipped methodology (ombudsman-2019 has 11 unit indicators; the
six service indicators are derived from ``posted_standards``): every checklist answers the 11
unit indicators (some with notes, some citing photos) and posts 5 services, each with its
components (4-6 of the delivery components plus a few others), a fee, a number of days and 2-4
requirements: 11 + 5 x (service + ~7 components + fee + days + ~3 requirements) ~= 11 + 5 x 10
~= 60 answer-like items, ~2 KB of JSON.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from fieldcheck.units.services import HEADER

#: Cities with demo units (fieldcheck/demo/units.csv): region code, province, UTC offset (hours)
#: and a centre the synthetic units are scattered around (within ~5 km).
CITIES = (
    ("35.15", "35", 7, -7.4478, 112.7183),  # Sidoarjo
    ("35.25", "35", 7, -7.1622, 112.6516),  # Gresik
    ("35.78", "35", 7, -7.2575, 112.7521),  # Surabaya
    ("13.71", "13", 7, -0.9471, 100.4172),  # Padang
    ("32.73", "32", 7, -6.9175, 107.6191),  # Bandung
    ("32.09", "32", 7, -6.7063, 108.5570),  # Cirebon
    ("21.71", "21", 7, 1.1301, 104.0529),  # Batam
    ("73.71", "73", 8, -5.1477, 119.4327),  # Makassar
)

#: Unit kinds with five services each (every checklist posts all five).
UNIT_KINDS = (
    (
        "DUKCAPIL",
        "disdukcapil",
        "Dinas Kependudukan dan Pencatatan Sipil",
        (
            "adminduk.ktp-el",
            "adminduk.kk",
            "adminduk.akta-kelahiran",
            "adminduk.akta-kematian",
            "adminduk.pindah-datang",
        ),
    ),
    (
        "SATPAS",
        "satpas",
        "Satuan Penyelenggara Administrasi SIM",
        (
            "polri.sim-a-baru",
            "polri.sim-c-baru",
            "polri.sim-a-perpanjangan",
            "polri.sim-c-perpanjangan",
            "polri.skck",
        ),
    ),
    (
        "MPP",
        "mpp",
        "Mal Pelayanan Publik",
        ("dpmptsp.pbg", "dpmptsp.nib", "adminduk.kk", "samsat.pkb", "polri.skck"),
    ),
)

#: The unit indicators of ombudsman-2019 and those that want a photo when answered yes/partial.
UNIT_INDICATORS = (
    "SP-01", "MP-01", "SI-01", "PG-01", "PG-02", "SR-01", "SR-02", "VM-01", "AT-01", "PT-01",
    "SK-01",
)  # fmt: skip
PHOTO_INDICATORS = ("SP-01", "MP-01", "PG-01", "SR-01", "VM-01")
OTHER_COMPONENTS = ("dasar_hukum", "sarana", "kompetensi", "pengawasan", "jaminan_pelayanan")
REQUIREMENTS = (
    "kk",
    "ktp-el",
    "usia-17-atau-kawin",
    "Formulir permohonan",
    "Surat pengantar RT/RW",
    "Pas foto 3x4",
    "Surat keterangan dokter",
)
NOTES = (
    "Antrean sekitar 40 orang pada pukul 09.15 WIB.",
    "Petugas loket ramah; papan informasi tertutup spanduk.",
    "Ruang tunggu penuh, kursi prioritas tersedia.",
    None,
)

#: Visits of one surveyor start at these local times of day (three a day, 2.5 h apart: every
#: unit of a province is reachable in between at the default INTEGRITY_MAX_SPEED_KMH).
VISIT_SLOTS = ((8, 30), (11, 0), (13, 30))


@dataclass(frozen=True)
class UnitSpec:
    """A synthetic unit: code, region, coordinates and the five services it offers."""

    code: str
    region_code: str
    province: str
    utc_offset_h: int
    lat: float
    lon: float
    services: tuple[str, ...]


@dataclass(frozen=True)
class SurveyorSpec:
    """A surveyor of one province and the bearer token it sends."""

    index: int
    user_id: int
    province: str
    token: str


@dataclass
class World:
    """What the checklists refer to: units (by province) and surveyors with tokens."""

    units: list[UnitSpec]
    surveyors: list[SurveyorSpec]

    def units_of(self, province: str) -> list[UnitSpec]:
        """The units a surveyor of ``province`` may inspect."""
        return [u for u in self.units if u.province == province]


def units_csv(units_per_city: int, seed: int = 14) -> tuple[str, list[UnitSpec]]:
    """A units CSV (api.md header) with ``units_per_city`` units in each city of ``CITIES``."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    specs = []
    for region, province, offset, lat0, lon0 in CITIES:
        for i in range(units_per_city):
            suffix, unit_type, name, services = UNIT_KINDS[i % len(UNIT_KINDS)]
            code = f"{region}-BENCH-{suffix}-{i:03d}"
            lat = round(lat0 + rng.uniform(-0.04, 0.04), 5)
            lon = round(lon0 + rng.uniform(-0.04, 0.04), 5)
            writer.writerow(
                [
                    code,
                    f"{name} {i} ({region}, bench)",
                    f"PEMDA-{region}",
                    f"Pemerintah Daerah {region}",
                    "pemkab",
                    region,
                    unit_type,
                    lat,
                    lon,
                    ";".join(services),
                ]
            )
            specs.append(UnitSpec(code, region, province, offset, lat, lon, services))
    return out.getvalue(), specs


def prepare_world(surveyors: int = 32, units_per_city: int = 24, seed: int = 14) -> World:
    """Create the bench units and ``surveyors`` surveyors (each with a token) and commit.

    Call inside an app context on a migrated database. Surveyors are spread over the provinces
    of ``CITIES`` round robin; surveyor ``i`` is named ``bench surveyor i``.
    """
    from fieldcheck.auth.services import create_user
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.extensions import db
    from fieldcheck.units.services import import_units

    text, units = units_csv(units_per_city, seed)
    import_units(io.StringIO(text), set(get_registry().catalogue.services))
    provinces = sorted({u.province for u in units})
    people = []
    for i in range(surveyors):
        province = provinces[i % len(provinces)]
        user, token = create_user(f"bench surveyor {i}", "surveyor", province)
        db.session.flush()
        people.append(SurveyorSpec(i, user.id, province, token))
    db.session.commit()
    return World(units, people)


def _jpeg(seed: int, taken_local: datetime) -> bytes:
    """A small, unique JPEG (noise from ``seed``) whose EXIF says it was taken at
    ``taken_local`` (naive local time, as phones write it)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken_local.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


class ChecklistFactory:
    """Deterministic, realistic checklist bodies for a :class:`World`.

    Visit ``k`` of surveyor ``s`` happens on day ``k // 3`` counted from ``start`` (three visits
    a day, local times ``VISIT_SLOTS`` at the unit), lasts 25-55 minutes, at a unit of the
    surveyor's province, with the phone's fix within ~30 m of the unit. ``start`` defaults to
    ``capacity`` visits before today, so visits up to ``capacity`` stay in the past. One visit
    in ``photo_every`` cites ``photos_per_visit`` photos (see :meth:`photos`).
    """

    def __init__(
        self,
        world: World,
        *,
        capacity: int = 300,
        seed: int = 14,
        photo_every: int = 4,
        photos_per_visit: int = 2,
        start: datetime | None = None,
    ) -> None:
        self.world = world
        self.seed = seed
        self.photo_every = photo_every
        self.photos_per_visit = photos_per_visit
        days = capacity // len(VISIT_SLOTS) + 2
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = start or today - timedelta(days=days)
        self._units = {p: world.units_of(p) for p in {s.province for s in world.surveyors}}

    def _rng(self, surveyor: int, k: int) -> random.Random:
        return random.Random(f"{self.seed}:{surveyor}:{k}")

    def visit(self, surveyor: int, k: int) -> tuple[UnitSpec, datetime, datetime]:
        """Unit, start and end (aware, in the unit's zone) of visit ``k`` of ``surveyor``."""
        rng = self._rng(surveyor, k)
        spec = self.world.surveyors[surveyor]
        unit = rng.choice(self._units[spec.province])
        zone = timezone(timedelta(hours=unit.utc_offset_h))
        hour, minute = VISIT_SLOTS[k % len(VISIT_SLOTS)]
        day = (self.start + timedelta(days=k // len(VISIT_SLOTS))).date()
        started = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone) + timedelta(
            minutes=rng.randint(0, 15)
        )
        return unit, started, started + timedelta(minutes=rng.randint(25, 55))

    def photos(self, surveyor: int, k: int) -> list[bytes]:
        """The JPEGs visit ``k`` cites (empty for most visits); upload them before the body."""
        if self.photo_every <= 0 or (surveyor + k) % self.photo_every != self.photo_every - 1:
            return []
        _unit, started, _finished = self.visit(surveyor, k)
        local = started.replace(tzinfo=None)
        return [
            _jpeg(
                (self.seed * 1_000_003 + surveyor) * 1_000_003 + k * 16 + i,
                local + timedelta(minutes=5 + i),
            )
            for i in range(self.photos_per_visit)
        ]

    def body(self, surveyor: int, k: int) -> dict[str, Any]:
        """Visit ``k`` of ``surveyor`` as the phone posts it (``POST /api/v1/inspections``)."""
        rng = self._rng(surveyor, k)
        unit, started, finished = self.visit(surveyor, k)
        rng.random()  # keep the stream independent of visit()'s draws
        shas = [sha256(p).hexdigest() for p in self.photos(surveyor, k)]
        answers: dict[str, Any] = {}
        for code in UNIT_INDICATORS:
            value = rng.choices(("yes", "partial", "no", "na"), (6, 2, 2, 1))[0]
            answer: dict[str, Any] = {"value": value}
            if rng.random() < 0.3:
                answer["note"] = f"Catatan {code}: " + rng.choice(NOTES[:-1])
            answers[code] = answer
        cited = [c for c in PHOTO_INDICATORS if answers[c]["value"] in ("yes", "partial")]
        for i, sha in enumerate(shas):
            code = cited[i % len(cited)] if cited else PHOTO_INDICATORS[0]
            answers[code].setdefault("photos", []).append(sha)
            if answers[code]["value"] in ("no", "na"):
                answers[code]["value"] = "yes"
        posted = []
        for service in unit.services:
            components = ["persyaratan", "prosedur", "biaya", "produk"]
            components += [c for c in ("waktu", "pengaduan") if rng.random() < 0.7]
            components += rng.sample(OTHER_COMPONENTS, rng.randint(0, 2))
            standard: dict[str, Any] = {
                "service": service,
                "components": components,
                "fee_idr": rng.choices((0, 10_000, 25_000), (8, 1, 1))[0],
                "requirements": rng.sample(REQUIREMENTS, rng.randint(2, 4)),
            }
            if "waktu" in components:
                standard["max_days"] = rng.choice((1, 3, 7, 14))
            posted.append(standard)
        jitter = 0.0003  # ~30 m
        return {
            "submission_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "unit_code": unit.code,
            "methodology": "ombudsman-2019",
            "started_at": started.isoformat(),
            "finished_at": finished.isoformat(),
            "location": {
                "lat": round(unit.lat + rng.uniform(-jitter, jitter), 6),
                "lon": round(unit.lon + rng.uniform(-jitter, jitter), 6),
                "accuracy_m": rng.choice((5, 8, 12, 20)),
            },
            "answers": answers,
            "posted_standards": posted,
            "notes": rng.choice(NOTES),
        }


def client_visits(
    client: int, clients: int, surveyors: int, seq: int, first: int = 0
) -> tuple[int, int]:
    """Which (surveyor, visit number) request ``seq`` of ``client`` sends.

    Client ``c`` of ``clients`` owns surveyors ``c, c + clients, ...`` (at least one: needs
    ``surveyors >= clients``) and goes round them; ``first`` offsets every visit number, so a
    later run continues the surveyors' timelines instead of resending.
    """
    owned = list(range(client, surveyors, clients))
    if not owned:
        raise ValueError(f"{clients} clients need at least {clients} surveyors, not {surveyors}")
    return owned[seq % len(owned)], first + seq // len(owned)


# --------------------------------------------------------------------------- HTTP load


@dataclass(frozen=True)
class Job:
    """One request: method, path, JSON body (bytes), bearer token and a caller's ``key``."""

    method: str
    path: str
    body: bytes | None
    token: str
    key: Any = None
    content_type: str = "application/json"


@dataclass
class Sample:
    """One request's outcome: ``status`` is the HTTP status, or the exception's class name."""

    client: int
    started: float  # seconds since the run started
    latency: float  # seconds
    status: int | str
    key: Any = None
    body: bytes = b""


@dataclass
class LoadResult:
    """Every request of a run, and summaries of them."""

    clients: int
    elapsed: float
    samples: list[Sample] = field(default_factory=list)

    def statuses(self) -> Counter:
        """Request counts by status (HTTP status or exception class name)."""
        return Counter(s.status for s in self.samples)

    def ok(self, statuses: Iterable[int] = (200, 201)) -> list[Sample]:
        """The samples answered with one of ``statuses`` (acknowledged)."""
        wanted = set(statuses)
        return [s for s in self.samples if s.status in wanted]

    def rate(self, statuses: Iterable[int] = (200, 201)) -> float:
        """Acknowledged requests per second over the run."""
        return len(self.ok(statuses)) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile (0-100) of latency in seconds, nearest-rank, all requests."""
        latencies = sorted(s.latency for s in self.samples)
        if not latencies:
            return float("nan")
        rank = max(1, min(len(latencies), round(p / 100 * len(latencies) + 0.5)))
        return latencies[rank - 1]


class _Connection:
    """A keep-alive HTTP/1.1 connection that reconnects after a transport error."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def send(self, job: Job) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {job.token}"}
        if job.body is not None:
            headers["Content-Type"] = job.content_type
        try:
            self.conn.request(job.method, self.prefix + job.path, body=job.body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_closed_loop(
    url: str,
    clients: int,
    next_job: Callable[[int, int], Job | None],
    *,
    requests_per_client: int | None = None,
    duration: float | None = None,
    timeout: float = 30.0,
    keep_body: Callable[[int | str], bool] | None = None,
) -> LoadResult:
    """Run ``clients`` closed-loop clients against ``url`` (e.g. ``http://127.0.0.1:5000``).

    Client ``c`` sends ``next_job(c, seq)`` for ``seq = 0, 1, ...`` over its own keep-alive
    connection, each request after the previous answer, until ``next_job`` returns None,
    ``requests_per_client`` requests are sent or ``duration`` seconds have passed (at least one
    bound is required). Transport errors (refused, reset, timeout) are recorded as samples with
    the exception's class name as status, and the client reconnects and goes on. Response bodies
    are dropped unless ``keep_body(status)`` says to keep them.
    """
    if requests_per_client is None and duration is None:
        raise ValueError("a closed loop needs requests_per_client or duration")
    per_client: list[list[Sample]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    t0 = 0.0

    def work(c: int) -> None:
        connection = _Connection(url, timeout)
        out = per_client[c]
        barrier.wait()
        seq = 0
        try:
            while requests_per_client is None or seq < requests_per_client:
                if duration is not None and time.perf_counter() - t0 >= duration:
                    break
                job = next_job(c, seq)
                if job is None:
                    break
                begun = time.perf_counter()
                status: int | str
                try:
                    status, data = connection.send(job)
                except (OSError, http.client.HTTPException) as exc:
                    status, data = type(exc).__name__, b""
                ended = time.perf_counter()
                keep = keep_body is not None and keep_body(status)
                out.append(
                    Sample(c, begun - t0, ended - begun, status, job.key, data if keep else b"")
                )
                seq += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in range(clients)]
    for thread in threads:
        thread.start()
    t0 = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    return LoadResult(clients, elapsed, [s for samples in per_client for s in samples])


def checklist_jobs(
    factory: ChecklistFactory, clients: int, *, first: int = 0
) -> Callable[[int, int], Job]:
    """``next_job`` for :func:`run_closed_loop`: each client posts its surveyors' visits in
    order (see :func:`client_visits`); a sample's ``key`` is ``(surveyor, visit, submission_id)``.
    """
    surveyors = factory.world.surveyors

    def next_job(client: int, seq: int) -> Job:
        s, k = client_visits(client, clients, len(surveyors), seq, first)
        body = factory.body(s, k)
        return Job(
            "POST",
            "/api/v1/inspections",
            json.dumps(body).encode(),
            surveyors[s].token,
            key=(s, k, body["submission_id"]),
        )

    return next_job


def upload_photos(
    url: str, factory: ChecklistFactory, visits: Iterable[tuple[int, int]], clients: int = 4
) -> int:
    """Upload (``POST /api/v1/photos``, as the visit's surveyor) every photo the ``visits``
    ``(surveyor, k)`` cite; returns how many were sent. Raises on any refusal."""
    jobs = []
    for s, k in visits:
        for photo in factory.photos(s, k):
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
                ).encode()
                + photo
                + f"\r\n--{boundary}--\r\n".encode()
            )
            jobs.append(
                Job(
                    "POST",
                    "/api/v1/photos",
                    body,
                    factory.world.surveyors[s].token,
                    content_type=f"multipart/form-data; boundary={boundary}",
                )
            )
    if not jobs:
        return 0
    lock = threading.Lock()
    queue = iter(jobs)

    def next_job(_client: int, _seq: int) -> Job | None:
        with lock:
            return next(queue, None)

    result = run_closed_loop(
        url, min(clients, len(jobs)), next_job, requests_per_client=len(jobs), keep_body=bool
    )
    bad = [s for s in result.samples if s.status not in (200, 201)]
    if bad:
        raise RuntimeError(f"photo upload failed: {bad[0].status} {bad[0].body[:300]!r}")
    return len(jobs)


# --------------------------------------------------------------------------- storage limit


def raw_insert_baseline(
    database_url: str, bodies: Sequence[bytes | str], clients: int
) -> LoadResult:
    """Insert ``bodies`` as raw JSON text into a scratch table ``bench_raw`` of the same
    database, one transaction (INSERT + COMMIT) each, from ``clients`` threads with a
    connection each: what any durable intake must at least do. The table is dropped after.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(
        database_url,
        pool_size=clients,
        max_overflow=0,
        connect_args={"timeout": 30} if database_url.startswith("sqlite") else {},
    )
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_raw"))
        conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    texts = [b.decode() if isinstance(b, bytes) else b for b in bodies]
    lock = threading.Lock()
    queue = iter(enumerate(texts))
    samples: list[list[Sample]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    insert = text("INSERT INTO bench_raw (id, body) VALUES (:i, :b)")

    def work(c: int) -> None:
        with engine.connect() as conn:
            barrier.wait()
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                begun = time.perf_counter()
                conn.execute(insert, {"i": item[0], "b": item[1]})
                conn.commit()
                samples[c].append(Sample(c, begun - t0, time.perf_counter() - begun, 201))

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in range(clients)]
    for thread in threads:
        thread.start()
    t0 = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw"))
    engine.dispose()
    return LoadResult(clients, elapsed, [s for per in samples for s in per])

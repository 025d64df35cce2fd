"""``verify``: does the audit log still hold what was sealed and anchored?

It walks the seals by ``seq`` joined to their entries and checks that the links are numbered
1, 2, 3, ... without a gap (a deleted head or middle shows), that each ``prev_hash`` is the hash
of the link before, that each entry still exists and matches its link (HMAC under the key named
by ``key_id``; the unkeyed legacy prefix by its sha256, and only as a prefix), that every
checkpoint line outside the database is genuine and that the chain still holds each one's link
(a truncated tail, a TRUNCATE or a recomputed chain shows), that no entry counted by a checkpoint
has gone, and that no entry has waited unsealed longer than ``audit.seal_grace_seconds``.

What it can vouch for: every link up to the newest checkpoint the chain holds. Links sealed
after it are checked against the key, but their deletion from the end would not show until the
next checkpoint names them. Entries not yet sealed are only counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import exists, func, select

from fieldcheck.audit import checkpoints
from fieldcheck.audit.chain import (
    CONTENT_COLUMNS,
    GENESIS,
    LEGACY_KEY_ID,
    legacy_hash,
    same,
    seal_hash,
)
from fieldcheck.audit.checkpoints import BadLine, Checkpoint
from fieldcheck.audit.keys import KeyMissing, KeyRing, key_ring
from fieldcheck.audit.models import AuditEntry, AuditSeal
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, Template, _

#: Problems listed at most (the first ones say where the damage starts).
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """Something the log should hold and does not: a msgid with its parameters."""

    code: str
    message: Template
    params: dict[str, Any]
    #: The link (seq) it is about, when it is about one.
    seq: int | None = None
    entry_id: int | None = None

    def text(self) -> str:
        """The message in the request's language (pages)."""
        return _(self.message, **self.params)

    def english(self) -> str:
        """The message as written (the command line, logs)."""
        return str(self.message) % self.params


@dataclass
class ChainReport:
    """What ``verify`` found."""

    #: Links checked (= entries sealed, if nothing is broken).
    links: int = 0
    #: Links of the unkeyed legacy prefix (carried over by migration 0011).
    legacy: int = 0
    #: The first keyed link, None when none is keyed yet.
    keyed_from: int | None = None
    #: key_ids of the keys the keyed links were made with.
    key_ids: list[str] = field(default_factory=list)
    unsealed: int = 0
    checkpoints: int = 0
    #: The oldest genuine checkpoint held by the chain: anchored since then.
    first_checkpoint: Checkpoint | None = None
    #: The newest genuine checkpoint held by the chain: vouched for up to its link.
    vouched: Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)
    #: Lines of genuine checkpoints whose link the chain no longer holds.
    unheld: set[int] = field(default_factory=set)
    #: Not damage, but limits of what can be vouched for (no checkpoint yet, ...).
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def add(self, problem: Problem) -> None:
        """Record a problem (the first MAX_PROBLEMS are kept)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def verify() -> ChainReport:
    """Check the whole chain, its checkpoints and the unsealed entries; never raises for damage."""
    session = db.session()
    own = not session.in_transaction()
    if own:
        # A read on its own (the CLI): on SQLite a deferred BEGIN, so a long walk does not hold
        # the write lock intake needs (WAL keeps the snapshot stable).
        session.connection(execution_options={"fieldcheck_read_snapshot": True})
    try:
        return _verify()
    finally:
        if own:
            session.rollback()  # read only: end the snapshot we opened


def _verify() -> ChainReport:
    report = ChainReport()
    try:
        ring: KeyRing | None = key_ring()
    except KeyMissing:
        ring = None
    lines = list(checkpoints.read(ring)) if ring is not None else []
    good = [c for c in lines if isinstance(c, Checkpoint)]
    for bad in (c for c in lines if isinstance(c, BadLine)):
        report.add(_bad_line(bad))
    report.checkpoints = len(good)
    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in good:
        by_seq.setdefault(checkpoint.seq, []).append(checkpoint)

    # The unkeyed prefix is as long as the checkpoints say, never longer.
    legacy_limit = min((c.legacy for c in good), default=None)
    last_seq = _walk(report, ring, by_seq, legacy_limit)

    held = [c for c in good if c.seq <= last_seq and c.line not in report.unheld]
    for checkpoint in good:
        if checkpoint.seq > last_seq:
            report.add(
                Problem(
                    "truncated",
                    N_(
                        "Checkpoint line %(line)s of %(at)s names link %(seq)s, but the chain "
                        "ends at link %(last)s: its tail was deleted or the log truncated."
                    ),
                    {
                        "line": checkpoint.line,
                        "at": _at(checkpoint.at),
                        "seq": checkpoint.seq,
                        "last": last_seq,
                    },
                    seq=checkpoint.seq,
                )
            )
    if held:
        report.first_checkpoint = min(held, key=lambda c: (c.at, c.seq))
        report.vouched = max(held, key=lambda c: (c.seq, c.at))
    _check_entries(report, good)
    if report.links and ring is not None and not good:
        report.notes.append(
            Problem(
                "no_checkpoint",
                N_(
                    "No checkpoint anchors the chain (%(path)s is missing or empty): a deleted "
                    "tail could not be told from a shorter log."
                ),
                {"path": str(checkpoints.checkpoint_file())},
            )
        )
    return report


def _walk(
    report: ChainReport,
    ring: KeyRing | None,
    by_seq: dict[int, list[Checkpoint]],
    legacy_limit: int | None,
) -> int:
    """Check every link in order; returns the last link's seq (0 for an empty chain)."""
    seals, entries = AuditSeal.__table__, AuditEntry.__table__
    columns = [
        seals.c.seq,
        seals.c.entry_id,
        seals.c.prev_hash,
        seals.c.hash,
        seals.c.key_id,
        (entries.c.id.is_not(None)).label("entry_exists"),
        *(entries.c[name] for name in CONTENT_COLUMNS),
    ]
    query = (
        select(*columns)
        .select_from(seals.outerjoin(entries, entries.c.id == seals.c.entry_id))
        .order_by(seals.c.seq)
        .execution_options(yield_per=1000)
    )
    result = db.session.execute(query)
    try:
        return _links(report, ring, by_seq, legacy_limit, result)
    finally:
        result.close()  # a server-side cursor on PostgreSQL


def _links(
    report: ChainReport,
    ring: KeyRing | None,
    by_seq: dict[int, list[Checkpoint]],
    legacy_limit: int | None,
    rows: Iterable[Any],
) -> int:
    expected, prev_hash = 1, GENESIS
    keyed_ids: set[str] = set()
    for row in rows:
        report.links += 1
        where = {"seq": row.seq, "id": row.entry_id}
        if row.seq != expected:
            if expected == 1:
                report.add(
                    Problem(
                        "head_deleted",
                        N_(
                            "The chain starts at link %(seq)s: links 1 to %(missing)s were deleted."
                        ),
                        {"seq": row.seq, "missing": row.seq - 1},
                        seq=1,
                    )
                )
            else:
                report.add(
                    Problem(
                        "links_missing",
                        N_("Links %(first)s to %(last)s are missing."),
                        {"first": expected, "last": row.seq - 1},
                        seq=expected,
                    )
                )
        elif row.prev_hash != prev_hash:
            report.add(
                Problem(
                    "relinked",
                    N_("Link %(seq)s (entry %(id)s) does not follow the link before it."),
                    where,
                    seq=row.seq,
                    entry_id=row.entry_id,
                )
            )
        if not row.entry_exists:
            report.add(
                Problem(
                    "entry_deleted",
                    N_("Entry %(id)s, sealed as link %(seq)s, was deleted."),
                    where,
                    seq=row.seq,
                    entry_id=row.entry_id,
                )
            )
        else:
            _check_link(report, ring, row, keyed_ids, legacy_limit)
        for checkpoint in by_seq.get(row.seq, ()):
            if not same(checkpoint.hash, row.hash):
                report.unheld.add(checkpoint.line)
                report.add(
                    Problem(
                        "rewritten",
                        N_(
                            "The chain no longer holds checkpoint line %(line)s of %(at)s: link "
                            "%(seq)s was rewritten."
                        ),
                        {"line": checkpoint.line, "at": _at(checkpoint.at), "seq": row.seq},
                        seq=row.seq,
                    )
                )
        expected, prev_hash = row.seq + 1, row.hash
    report.key_ids = sorted(keyed_ids)
    return expected - 1


def _check_link(
    report: ChainReport,
    ring: KeyRing | None,
    row: Any,
    keyed_ids: set[str],
    legacy_limit: int | None,
) -> None:
    where = {"seq": row.seq, "id": row.entry_id}
    if row.key_id == LEGACY_KEY_ID:
        # The unkeyed chain is accepted only as the prefix migration 0011 carried over, as long
        # as the checkpoints say: anyone with the database can compute such a link, so one
        # after a keyed link, or beyond the prefix a checkpoint signed, is a forgery.
        beyond = legacy_limit is not None and row.seq > legacy_limit
        if report.keyed_from is not None or row.seq != row.entry_id or beyond:
            report.add(
                Problem(
                    "legacy_forged",
                    N_(
                        "Link %(seq)s (entry %(id)s) claims to be unkeyed, but the unkeyed chain "
                        "ended before it."
                    ),
                    where,
                    seq=row.seq,
                    entry_id=row.entry_id,
                )
            )
            return
        report.legacy += 1
        expected = legacy_hash(row.prev_hash, _content(row))
    else:
        if report.keyed_from is None:
            report.keyed_from = row.seq
        keyed_ids.add(row.key_id)
        key = ring.get(row.key_id) if ring is not None else None
        if key is None:
            report.add(
                Problem(
                    "unknown_key",
                    N_("Link %(seq)s was sealed with key %(key)s, which is not configured."),
                    {**where, "key": row.key_id},
                    seq=row.seq,
                    entry_id=row.entry_id,
                )
            )
            return
        expected = seal_hash(key, row.prev_hash, row.seq, _content(row))
    if not same(expected, row.hash):
        report.add(
            Problem(
                "altered",
                N_(
                    "Entry %(id)s does not match its link %(seq)s: it was altered, or the link "
                    "was made without the key."
                ),
                where,
                seq=row.seq,
                entry_id=row.entry_id,
            )
        )


def _content(row: Any) -> dict[str, Any]:
    mapping = row._mapping
    return {name: mapping[name] for name in CONTENT_COLUMNS}


def _check_entries(report: ChainReport, good: list[Checkpoint]) -> None:
    """Entries waiting for their seal, and entries gone that a checkpoint counted."""
    table = AuditEntry.__table__
    unsealed = ~exists().where(AuditSeal.entry_id == table.c.id)
    count, oldest = db.session.execute(
        select(func.count(), func.min(table.c.created_at)).where(unsealed)
    ).one()
    report.unsealed = count
    grace = timedelta(seconds=current_app.config["AUDIT_SEAL_GRACE_SECONDS"])
    if oldest is not None and utcnow() - oldest > grace:
        late = db.session.execute(
            select(func.count(), func.min(table.c.id)).where(
                unsealed, table.c.created_at < utcnow() - grace
            )
        ).one()
        report.add(
            Problem(
                "unsealed",
                N_(
                    "%(n)s entries have waited longer than %(minutes)s minutes for their seal "
                    "(the first is entry %(id)s): the sealer is not running, or rows were "
                    "written behind the application's back."
                ),
                {"n": late[0], "minutes": int(grace.total_seconds() // 60), "id": late[1]},
                entry_id=late[1],
            )
        )
    if good:
        counted = max(good, key=lambda c: c.entries)
        total = db.session.execute(select(func.count()).select_from(table)).scalar_one()
        if total < counted.entries:
            report.add(
                Problem(
                    "entries_deleted",
                    N_(
                        "Checkpoint line %(line)s of %(at)s counted %(counted)s entries; the log "
                        "now holds %(total)s."
                    ),
                    {
                        "line": counted.line,
                        "at": _at(counted.at),
                        "counted": counted.entries,
                        "total": total,
                    },
                )
            )


def _bad_line(bad: BadLine) -> Problem:
    messages = {
        "unreadable": N_("Checkpoint line %(line)s is unreadable."),
        "unknown_key": N_(
            "Checkpoint line %(line)s was signed with key %(key)s, which is not configured."
        ),
        "bad_mac": N_("Checkpoint line %(line)s was edited or forged (its signature is wrong)."),
    }
    return Problem(
        f"checkpoint_{bad.reason}", messages[bad.reason], {"line": bad.line, "key": bad.key_id}
    )


def _at(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")

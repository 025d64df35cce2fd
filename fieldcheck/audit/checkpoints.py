"""Checkpoints: the chain's head, written outside the database at intervals.

Each line of ``audit.checkpoint_file`` (default ``instance/audit-checkpoints.jsonl``) is one JSON
object ``{seq, hash, entries, legacy, at, key_id, mac}``: at time ``at`` the chain's head was
link ``seq`` with hash ``hash``, the log held ``entries`` entries (sealed or not), and its first
``legacy`` links were the unkeyed prefix from migration 0011; ``mac`` is an HMAC of the other
fields under the audit key ``key_id``. Whoever can rewrite the database cannot rewrite this
file (the operator ships it to another host or an append-only store: docs/deploy.md), so a
chain that no longer holds a checkpoint's link — truncated, its tail deleted, or recomputed — is
detected.

Appended with one ``write`` on a file opened ``O_APPEND`` and fsynced: lines of two sealers never
interleave, and a line is on disk before the next one is considered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

from fieldcheck.audit.chain import mac, same
from fieldcheck.audit.keys import KeyRing

#: The fields of a line, in the order written (the mac covers all but itself).
FIELDS = ("seq", "hash", "entries", "legacy", "at", "key_id")


@dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint file, as read."""

    line: int
    seq: int
    hash: str
    entries: int
    legacy: int
    at: datetime
    key_id: str


@dataclass(frozen=True)
class BadLine:
    """A line of the checkpoint file that cannot be trusted (unreadable, unknown key, bad mac)."""

    line: int
    #: "unreadable", "unknown_key" or "bad_mac".
    reason: str
    key_id: str = ""


def checkpoint_file() -> Path:
    """Where checkpoints go (``audit.checkpoint_file``, default in the instance folder)."""
    configured = current_app.config["AUDIT_CHECKPOINT_FILE"]
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "audit-checkpoints.jsonl"


def append(
    ring: KeyRing, seq: int, hash_: str, entries: int, legacy: int, at: datetime
) -> dict[str, Any]:
    """Write one signed checkpoint line for link ``seq``; returns what was written."""
    fields: dict[str, Any] = {
        "seq": seq,
        "hash": hash_,
        "entries": entries,
        "legacy": legacy,
        "at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "key_id": ring.current_id,
    }
    fields["mac"] = mac(ring.current, fields)
    line = (json.dumps(fields, separators=(",", ":")) + "\n").encode()
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return fields


@dataclass(frozen=True)
class Last:
    """The newest line's link and time (for the sealer's "is one due?"; not verified)."""

    seq: int
    at: datetime


def last() -> Last | None:
    """The newest line, read from the file's end; None without a readable line."""
    path = checkpoint_file()
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            tail = fh.read().splitlines()
    except FileNotFoundError:
        return None
    for raw in reversed(tail):
        try:
            data = json.loads(raw)
            return Last(int(data["seq"]), _when(str(data["at"])))
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line: look at the one before
    return None


def read(ring: KeyRing) -> Iterator[Checkpoint | BadLine]:
    """Every line of the file, checked against its mac; nothing when there is no file."""
    path = checkpoint_file()
    if not path.exists():
        return
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield _parse(ring, number, raw)


def _parse(ring: KeyRing, number: int, raw: bytes) -> Checkpoint | BadLine:
    try:
        data = json.loads(raw)
        fields = {name: data[name] for name in FIELDS}
        given = str(data["mac"])
        if not all(isinstance(fields[name], int) for name in ("seq", "entries", "legacy")):
            raise TypeError
        at = _when(str(fields["at"]))
    except (ValueError, KeyError, TypeError):
        return BadLine(number, "unreadable")
    key = ring.get(str(fields["key_id"]))
    if key is None:
        return BadLine(number, "unknown_key", str(fields["key_id"]))
    if not same(mac(key, fields), given):
        return BadLine(number, "bad_mac")
    return Checkpoint(
        number,
        fields["seq"],
        str(fields["hash"]),
        fields["entries"],
        fields["legacy"],
        at,
        str(fields["key_id"]),
    )


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

"""The audit chain's secret key, kept outside the database.

``audit.key`` (env ``FIELDCHECK_AUDIT_KEY``) if set, else the file ``audit.key_file`` (default
``instance/audit_key``, made 0600 with a random key on the first seal, as ``secret_key`` is).
The file may hold several keys, one a line: the first seals, the others only verify (rotation:
put a new key on the first line and keep the old ones below it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from flask import current_app

from fieldcheck.audit.chain import key_id_of
from fieldcheck.config import write_secret_file


class KeyMissing(Exception):
    """No audit key is configured or readable."""


@dataclass(frozen=True)
class KeyRing:
    """The sealing key first, then retired keys; looked up by ``key_id``."""

    keys: tuple[bytes, ...]

    @property
    def current(self) -> bytes:
        """The key new seals and checkpoints are made with."""
        return self.keys[0]

    @property
    def current_id(self) -> str:
        """``key_id`` of the current key."""
        return key_id_of(self.keys[0])

    @cached_property
    def _by_id(self) -> dict[str, bytes]:
        return {key_id_of(key): key for key in reversed(self.keys)}

    def get(self, key_id: str) -> bytes | None:
        """The key named ``key_id``, or None when the ring does not hold it."""
        return self._by_id.get(key_id)


def key_file() -> Path:
    """Where the key file is (``audit.key_file``, default ``<instance>/audit_key``)."""
    configured = current_app.config["AUDIT_KEY_FILE"]
    return Path(configured) if configured else Path(current_app.instance_path) / "audit_key"


def key_ring(create: bool = False) -> KeyRing:
    """The configured keys; ``create`` makes the key file when no key exists yet (the sealer
    does; ``verify`` never does: a fresh key would only make every keyed link look forged)."""
    keys: list[bytes] = []
    configured = current_app.config["AUDIT_KEY"]
    if configured:
        keys.append(configured.encode())
    path = key_file()
    if not keys and create and not path.exists():
        write_secret_file(path)
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key = line.strip().encode()
            if key and key not in keys:
                keys.append(key)
    if not keys:
        raise KeyMissing(f"no audit key: set audit.key or create {path}")
    return KeyRing(tuple(keys))

"""What a link of the audit chain is made of: the canonical content of an entry and its hashes.

Two kinds of link, told apart by the seal's ``key_id``:

- keyed (every seal made by ``seal()``): ``HMAC-SHA256(key, prev_hash + canonical JSON of the
  entry's content with its ``seq``)``. Without the key nobody can make a link that verifies;
- legacy (``key_id = "sha256"``, rows chained before migration 0011): the old unkeyed
  ``sha256(prev_hash + canonical JSON of the entry's content)``, where the old ``id`` was the
  position, so ``seq == entry id`` there.

Canonical JSON: sorted keys, compact separators, UTF-8; times as UTC ISO-8601 with
microseconds; ``before``/``after`` as stored (they were normalised through JSON when written).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
#: ``key_id`` of the links carried over from the unkeyed chain (migration 0011).
LEGACY_KEY_ID = "sha256"
#: The entry columns a link covers (every column of ``audit_log``).
CONTENT_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "region_code",
    "before",
    "after",
)


def row_content(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of an entry (every column), in canonical form."""
    content = {name: entry[name] for name in CONTENT_COLUMNS}
    content["created_at"] = entry["created_at"].isoformat(timespec="microseconds")
    return content


def canonical(content: Mapping[str, Any]) -> bytes:
    """The one byte string a link hashes for ``content``."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """The legacy, unkeyed link: sha256 hex of ``prev_hash`` + canonical JSON of ``content``."""
    return hashlib.sha256(prev_hash.encode() + canonical(content)).hexdigest()


def legacy_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The legacy link of ``entry`` (its columns as read): ``chain_hash`` of its content."""
    return chain_hash(prev_hash, row_content(entry))


def seal_hash(key: bytes, prev_hash: str, seq: int, entry: Mapping[str, Any]) -> str:
    """The keyed link of ``entry`` at position ``seq``: HMAC-SHA256 hex under ``key``."""
    content = row_content(entry)
    content["seq"] = seq
    return hmac.new(key, prev_hash.encode() + canonical(content), hashlib.sha256).hexdigest()


def key_id_of(key: bytes) -> str:
    """A short public name of ``key`` (first 12 hex digits of its sha256), stored with each seal
    so verify knows which key of the ring made it; it reveals nothing usable about a random key."""
    return hashlib.sha256(key).hexdigest()[:12]


def mac(key: bytes, fields: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex of the canonical JSON of ``fields`` (a checkpoint line without its mac)."""
    return hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode(), b.encode())

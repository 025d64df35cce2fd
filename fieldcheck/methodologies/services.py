"""Uploading and publishing methodology versions (flush only; the caller commits).

Validation is the loader's (fieldcheck.catalogue.methodology.load_methodology) on the uploaded
bytes: the same checks as a shipped file. A rejected file is one 422 naming the loader's problem
(``methodology_problem``, the one place that turns a CatalogueError into a message).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.catalogue import CatalogueError
from fieldcheck.catalogue.models import MethodologyVersion
from fieldcheck.catalogue.registry import (
    CHANGED,
    METHODOLOGY_DIR,
    get_registry,
    parse_upload,
    shipped_registry,
)
from fieldcheck.clock import utcnow
from fieldcheck.core.model import Methodology
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, format_param, render, request_language, state

#: Content types an upload may have, and the format each means.
FORMATS = {
    "application/toml": "toml",
    "text/toml": "toml",
    "application/json": "json",
    "text/json": "json",
}
#: Largest methodology file accepted (the shipped one is ~15 kB).
MAX_BYTES = 1_048_576


def methodology_problem(exc: CatalogueError) -> ApiError:
    """The 422 for a file the loader rejected, naming the field and the problem.

    The one place a loader error becomes what users read: its msgid and parameters rendered in
    the reader's language, after the field path (``bands``, ``indicators[3] (SP-01).weight``).
    """
    problem = render(exc.message, exc.params or {}, request_language())
    if exc.where:
        problem = f"{exc.where}: {problem}"
    return field_errors(
        {"file": [_("The methodology file is invalid: %(problem)s", problem=problem)]},
        N_("The methodology file is invalid."),
    )


def format_of(filename: str | None, content_type: str | None) -> str | None:
    """``toml`` or ``json`` from an upload's content type, else its file name; None if neither."""
    kind = FORMATS.get((content_type or "").split(";")[0].strip().lower())
    if kind is None and filename:
        suffix = filename.rsplit(".", 1)[-1].lower()
        kind = suffix if suffix in ("toml", "json") else None
    return kind


@dataclass(frozen=True)
class VersionView:
    """One version as lists and pages show it: the parsed methodology and, for an upload, its
    row (who and when); a shipped file has no row."""

    methodology: Methodology
    row: MethodologyVersion | None

    @property
    def status(self) -> str:
        """The row's status (fresher than a snapshot's, for a version published elsewhere)."""
        return self.methodology.status if self.row is None else self.row.status

    @property
    def effective_from(self) -> date:
        """When it takes effect: the row's date once published, else the file's."""
        row_date = None if self.row is None else self.row.effective_from
        return row_date or self.methodology.effective_from

    @property
    def source(self) -> str:
        """``shipped`` (a file of the release) or ``uploaded``."""
        return "shipped" if self.row is None else "uploaded"


def _rows(methodology_id: str | None = None) -> list[MethodologyVersion]:
    query = select(MethodologyVersion).order_by(
        MethodologyVersion.methodology_id, MethodologyVersion.version
    )
    if methodology_id is not None:
        query = query.where(MethodologyVersion.methodology_id == methodology_id)
    return list(db.session.execute(query).scalars())


def _shipped_versions(methodology_id: str) -> tuple[Methodology, ...]:
    return shipped_registry().versions(methodology_id)


def upload(content: bytes, fmt: str, user: User | None = None) -> VersionView:
    """Validate and store a draft version (422 invalid, 409 published or not newer)."""
    if fmt not in ("toml", "json"):
        raise ApiError("unsupported_media_type", N_("Upload a TOML or JSON methodology file."))
    if not content.strip():
        raise field_errors({"file": [N_("The file is empty.")]})
    if len(content) > MAX_BYTES:
        raise ApiError("payload_too_large")
    registry = get_registry()
    try:
        methodology = parse_upload(content, fmt, registry.catalogue, registry.zones)
    except CatalogueError as exc:
        raise methodology_problem(exc) from None
    row = db.session.execute(
        select(MethodologyVersion).where(
            MethodologyVersion.methodology_id == methodology.id,
            MethodologyVersion.version == methodology.version,
        )
    ).scalar_one_or_none()
    shipped = _shipped_versions(methodology.id)
    if (row is not None and row.status != "draft") or any(
        m.version == methodology.version for m in shipped
    ):
        raise ApiError(
            "conflict",
            _(
                "Version %(version)s of %(methodology)s is published and can never change; "
                "upload the change as a new version.",
                version=methodology.version,
                methodology=methodology.id,
            ),
        )
    now = utcnow()
    before = None
    if row is None:
        newest = max(
            [
                *(m.version for m in shipped),
                db.session.execute(
                    select(func.max(MethodologyVersion.version)).where(
                        MethodologyVersion.methodology_id == methodology.id
                    )
                ).scalar_one()
                or 0,
            ],
            default=0,
        )
        if methodology.version <= newest:
            raise ApiError(
                "conflict",
                _(
                    "Version numbers must grow: the newest version of %(methodology)s is "
                    "%(newest)s.",
                    methodology=methodology.id,
                    newest=newest,
                ),
            )
        row = MethodologyVersion(
            methodology_id=methodology.id, version=methodology.version, status="draft"
        )
        db.session.add(row)
    else:
        before = {"content_hash": row.content_hash}
    row.content = content
    row.format = fmt
    row.content_hash = methodology.content_hash
    row.uploaded_by = None if user is None else user.id
    row.uploaded_at = now
    row.changed_at = now
    db.session.flush()
    record(
        "methodology.upload",
        "methodology_version",
        f"{row.methodology_id}@{row.version}",
        before=before,
        after={"content_hash": row.content_hash, "format": fmt, "status": row.status},
        actor=user,
    )
    db.session.info[CHANGED] = True
    return VersionView(methodology, row)


def publish(
    methodology_id: str, version: int, effective_from: date, user: User | None = None
) -> MethodologyVersion:
    """Publish an uploaded draft from ``effective_from`` on (404, 409 not a draft or not after
    the version in force before it)."""
    row = db.session.execute(
        select(MethodologyVersion).where(
            MethodologyVersion.methodology_id == methodology_id,
            MethodologyVersion.version == version,
        )
    ).scalar_one_or_none()
    if row is None:
        if any(m.version == version for m in _shipped_versions(methodology_id)):
            raise ApiError(
                "conflict", N_("A shipped methodology file is published by a release, not here.")
            )
        raise ApiError("not_found", N_("No such methodology version."))
    if row.status != "draft":
        raise ApiError(
            "conflict",
            _(
                "Version %(version)s of %(methodology)s is already %(status)s.",
                version=version,
                methodology=methodology_id,
                status=state(row.status),
            ),
        )
    # Versions follow each other in time: a new version may not start before (or on the day)
    # an older published one starts, or it would silently take over the older one's visits.
    for earlier in get_registry().versions(methodology_id):
        if earlier.status == "published" and effective_from <= earlier.effective_from:
            language = request_language()
            raise field_errors(
                {
                    "effective_from": [
                        _(
                            "Must be after %(date)s, when version %(version)s took effect.",
                            date=format_param("date", earlier.effective_from, language),
                            version=earlier.version,
                        )
                    ]
                }
            )
    now = utcnow()
    row.status = "published"
    row.effective_from = effective_from
    row.published_by = None if user is None else user.id
    row.published_at = now
    row.changed_at = now
    db.session.flush()
    record(
        "methodology.publish",
        "methodology_version",
        f"{row.methodology_id}@{row.version}",
        before={"status": "draft"},
        after={
            "status": "published",
            "effective_from": effective_from.isoformat(),
            "content_hash": row.content_hash,
        },
        actor=user,
    )
    db.session.info[CHANGED] = True
    return row


def versions(methodology_id: str | None = None) -> list[VersionView]:
    """Every version (shipped and uploaded) of one methodology or of all, by id and version.

    Read from the database, not the registry's snapshot: an upload by another process shows
    at once."""
    registry = get_registry()
    rows = {(r.methodology_id, r.version): r for r in _rows(methodology_id)}
    ids = [methodology_id] if methodology_id is not None else list(registry.all_versions)
    ids += sorted({key[0] for key in rows} - set(ids))
    out = []
    for mid in ids:
        for methodology in registry.versions(mid):
            out.append(VersionView(methodology, rows.pop((mid, methodology.version), None)))
        for rid, version in list(rows):
            if rid == mid:
                # Uploaded by another process a moment ago: the registry re-reads on a miss.
                found = registry.methodology(mid, version)
                if found is not None:
                    out.append(VersionView(found, rows.pop((rid, version))))
    return sorted(out, key=lambda v: (v.methodology.id, v.methodology.version))


def version(methodology_id: str, number: int) -> VersionView:
    """One version (404 when unknown)."""
    methodology = get_registry().methodology(methodology_id, number)
    if methodology is None:
        raise ApiError("not_found", N_("No such methodology version."))
    row = db.session.execute(
        select(MethodologyVersion).where(
            MethodologyVersion.methodology_id == methodology_id,
            MethodologyVersion.version == number,
        )
    ).scalar_one_or_none()
    if row is not None and row.content_hash != methodology.content_hash:
        # A draft replaced in another process since this one read it.
        methodology = get_registry().by_hash(row.content_hash) or methodology
    return VersionView(methodology, row)


def raw_file(methodology_id: str, number: int) -> tuple[bytes, str]:
    """The version's file exactly as uploaded or shipped, and its format (404 unknown)."""
    view = version(methodology_id, number)
    if view.row is not None:
        return view.row.content, view.row.format
    path = _shipped_path(view.methodology)
    if path is None:
        raise ApiError("not_found", N_("No such methodology version."))
    return path.read_bytes(), "toml"


def _shipped_path(methodology: Methodology) -> Path | None:
    """The shipped file whose bytes have this methodology's hash."""
    folders = [current_app.config.get("METHODOLOGY_DIR") or METHODOLOGY_DIR]
    extra = current_app.config.get("EXTRA_METHODOLOGY_DIRS") or ""
    folders += [part for part in str(extra).split(":") if part.strip()]
    for folder in folders:
        for path in sorted(Path(folder).glob("*.toml")):
            if hashlib.sha256(path.read_bytes()).hexdigest() == methodology.content_hash:
                return path
    return None

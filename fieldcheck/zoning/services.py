"""Zoning services: what counts, dirty markers, creating and publishing runs, reading results.

Functions here only ``flush()``; the request boundary, a CLI command or a job commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import shown, utcnow
from fieldcheck.core.model import Methodology
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, render_reason, state
from fieldcheck.outbox.events import queue
from fieldcheck.regions.models import Region
from fieldcheck.zoning.models import Lease, ZoningRun

#: The one rule for which inspections count in zoning (api.md: "Only approved inspections count").
#: Only approved inspections count. A corrected resubmission can only supersede a *returned*
#: inspection (fieldcheck.review), so "approved" already excludes superseded versions; see
#: fieldcheck.review.services.counted_inspections_condition for the same rule as SQL.
COUNTED_STATUSES = ("approved",)


def current_period() -> int:
    """The default assessment period: the current calendar year (in WIB)."""
    return utcnow().astimezone(ZoneInfo("Asia/Jakarta")).year


def weights_hash(methodology: Methodology, weights: dict[str, Any] | None) -> str:
    """The methodology's content hash, or a hash of it plus the draft weights of a what-if."""
    if not weights:
        return methodology.content_hash
    text = json.dumps(
        {"base": methodology.content_hash, "weights": weights}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_weights(methodology: Methodology, weights: dict[str, Any] | None) -> Methodology:
    """The methodology with some indicator weights replaced (a what-if's draft weights)."""
    if not weights:
        return methodology
    indicators = tuple(
        replace(i, weight=Decimal(str(weights[i.code]))) if i.code in weights else i
        for i in methodology.indicators
    )
    return replace(methodology, indicators=indicators)


def _check_weights(methodology: Methodology, weights: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not isinstance(weights, dict):
        return {"weights": [N_("Must be an object {indicator_code: weight}.")]}
    for code, weight in weights.items():
        path = f"weights.{code}"
        if methodology.indicator(code) is None:
            problems[path] = [
                _("Unknown indicator for methodology %(methodology)s.", methodology=methodology.id)
            ]
            continue
        try:
            # A finite number: 1e400 is a float (inf) that no JSON column can carry back.
            ok = (
                not isinstance(weight, bool)
                and Decimal(str(weight)).is_finite()
                and Decimal(str(weight)) >= 0
            )
        except InvalidOperation:
            ok = False
        if not ok or not isinstance(weight, int | float):
            problems[path] = [N_("Must be a number of 0 or more.")]
    if not problems and all(
        Decimal(str(weights.get(i.code, i.weight))) == 0 for i in methodology.indicators
    ):
        problems["weights"] = [N_("At least one indicator needs a weight above 0.")]
    return problems


def default_methodology_id() -> str:
    """The published methodology used when none is named: the DEFAULT_METHODOLOGY setting
    (checked at start-up), else the newest effective published one."""
    registry = get_registry()
    if registry.default_id is not None:
        return registry.default_id
    published = [m for m in registry.methodologies.values() if m.status == "published"]
    if not published:
        raise ApiError("validation_failed", N_("No published methodology is loaded."))
    return max(published, key=lambda m: (m.effective_from, m.id)).id


def _queued_run(user: User | None, trigger: str, **what: Any) -> ZoningRun:
    """A new queued run (flushed, so it has its id) of ``what`` (methodology, period, scope...),
    requested by ``user`` (None: the CLI or the nightly job) through ``trigger``."""
    run = ZoningRun(
        **what,
        mode="full",
        state="queued",
        trigger=trigger,
        requested_by=None if user is None else user.id,
        created_at=utcnow(),
        counts={},
        progress_done=0,
        progress_total=0,
        is_official=False,
    )
    db.session.add(run)
    db.session.flush()
    return run


def create_run(
    *,
    methodology_id: str | None = None,
    period: int | None = None,
    region: str | None = None,
    dry_run: bool = False,
    weights: dict[str, Any] | None = None,
    full: bool = False,
    trigger: str = "cli",
    user: User | None = None,
    version: int | None = None,
) -> ZoningRun:
    """Validate a run request and store it as queued (422 for bad input, 403 out of scope).

    ``version``: exactly that version of the methodology (a draft only in a dry run); without
    it, the version in force today."""
    registry = get_registry()
    methodology_id = methodology_id or default_methodology_id()
    problems: dict[str, list[str]] = {}
    methodology = registry.methodology(methodology_id, version)
    if methodology is None:
        problems["methodology"] = [
            N_("Unknown methodology.")
            if version is None or not registry.versions(methodology_id)
            else _(
                "Methodology %(methodology)s has no version %(version)s.",
                methodology=methodology_id,
                version=version,
            )
        ]
    elif methodology.status != "published" and not dry_run:
        problems["methodology"] = [
            _(
                "Methodology is %(status)s; only a dry run may use it.",
                status=state(methodology.status),
            )
        ]
    if weights is not None and not dry_run:
        problems["weights"] = [N_("Draft weights are only allowed in a dry run (what-if).")]
    elif weights is not None and methodology is not None:
        problems.update(_check_weights(methodology, weights))
    if region and db.session.get(Region, region) is None:
        problems["region"] = [N_("Unknown region code.")]
    if period is not None and not 2000 <= period <= 2100:
        problems["period"] = [N_("Must be a year between 2000 and 2100.")]
    elif methodology is not None:
        # A period the methodology was never in effect for has no inspections scored by it:
        # the run would publish an empty result under its name.
        year = period or current_period()
        first = methodology.effective_from.year
        last = methodology.effective_to.year if methodology.effective_to else None
        if year < first or (last is not None and year > last):
            problems["period"] = [
                _(
                    "Methodology %(methodology)s is in effect %(first)s-%(last)s, not %(year)s.",
                    methodology=methodology.id,
                    first=first,
                    last=last,
                    year=year,
                )
                if last
                else _(
                    "Methodology %(methodology)s is in effect from %(first)s, not %(year)s.",
                    methodology=methodology.id,
                    first=first,
                    year=year,
                )
            ]
    if problems:
        raise field_errors(problems)
    assert methodology is not None  # noqa: S101 - narrowed above
    if user is not None:
        if region is None and user.region_code is not None:
            region = user.region_code  # a scoped supervisor's run covers their region
        if not in_scope(user, region):
            raise ApiError("out_of_scope", N_("This region is outside your scope."))
    run = _queued_run(
        user,
        trigger,
        methodology_id=methodology.id,
        methodology_version=methodology.version,
        methodology_hash=weights_hash(methodology, weights),
        catalogue_hash=registry.catalogue.content_hash,
        period=period or current_period(),
        scope=region or "",
        requested_mode="full" if full else "incremental",
        is_dry_run=dry_run,
        weights=weights or None,
    )
    # Who asked for which run (a what-if with draft weights included): the run itself only
    # says "requested_by", and a run by the CLI or the nightly job names no one.
    record(
        "zoning_run.request",
        "zoning_run",
        run.id,
        after={
            "methodology": run.methodology_id,
            "period": run.period,
            "scope": run.scope,
            "mode": run.requested_mode,
            "dry_run": run.is_dry_run,
            "weights": run.weights,
            "trigger": run.trigger,
        },
        actor=user,
        region=run.scope or None,
    )
    return run


def publish_run(run: ZoningRun, user: User | None = None) -> ZoningRun:
    """Make ``run`` the official result for its methodology, period and scope (flush only).

    The previously official run stays stored (and keeps its ``published_at``) but is no longer
    official. Raises ApiError(conflict) for a run that is not a succeeded, non-dry run.
    """
    if run.is_dry_run:
        raise ApiError("conflict", N_("A dry run (what-if) can never be published."))
    if run.state != "succeeded":
        raise ApiError(
            "conflict",
            _(
                "Only a succeeded run can be published; this one is %(state)s.",
                state=state(run.state),
            ),
        )
    if run.is_official:
        return run
    # Unset the old one first and flush, so the partial unique index never sees two official rows.
    db.session.execute(
        update(ZoningRun)
        .where(
            ZoningRun.methodology_id == run.methodology_id,
            ZoningRun.period == run.period,
            ZoningRun.scope == run.scope,
            ZoningRun.is_official.is_(True),
        )
        .values(is_official=False)
    )
    db.session.flush()
    run.is_official = True
    run.published_at = utcnow()
    run.published_by = None if user is None else user.id
    queue(
        "zoning_run.published",
        {
            "run_id": run.id,
            "methodology": run.methodology_id,
            "period": run.period,
            "scope": run.scope,
            "published_by": run.published_by,
        },
        region=run.scope or None,
    )
    db.session.flush()
    return run


def official_run_query(methodology_id: str, period: int, scope: str = "") -> Select:
    """SELECT of the published run for a methodology, period and scope (at most one row)."""
    return select(ZoningRun).where(
        ZoningRun.methodology_id == methodology_id,
        ZoningRun.period == period,
        ZoningRun.scope == scope,
        ZoningRun.is_official.is_(True),
    )


def official_run(methodology_id: str, period: int, scope: str = "") -> ZoningRun | None:
    """The published run for a methodology, period and scope, if any."""
    return db.session.execute(
        official_run_query(methodology_id, period, scope)
    ).scalar_one_or_none()


def covering_scopes(region: str | None) -> list[str]:
    """Run scopes whose results cover all of ``region``: national, then each enclosing region
    (``35.15`` -> ``["", "35", "35.15"]``); just national for None."""
    scopes = [""]
    if region:
        parts = region.split(".")
        scopes += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return scopes


def latest_succeeded_run(
    methodology_id: str | None = None, period: int | None = None, scopes: list[str] | None = None
) -> ZoningRun | None:
    """The newest succeeded, non-dry run matching the filters given (any of ``scopes``)."""
    query = select(ZoningRun).where(ZoningRun.state == "succeeded", ZoningRun.is_dry_run.is_(False))
    if methodology_id is not None:
        query = query.where(ZoningRun.methodology_id == methodology_id)
    if period is not None:
        query = query.where(ZoningRun.period == period)
    if scopes is not None:
        query = query.where(ZoningRun.scope.in_(scopes))
    return db.session.execute(query.order_by(ZoningRun.id.desc()).limit(1)).scalar_one_or_none()


def latest_official_run(
    methodology_id: str, period: int | None = None, scopes: list[str] | None = None
) -> ZoningRun | None:
    """The official run of the newest period (or of ``period``) among runs of ``scopes``
    (default: national); of several, the one published last.

    Each scope has its own official run: a regional office may publish its province's result
    after the national one. For a region, the latest publication covering it is the current
    official word on it (covering_scopes).
    """
    query = select(ZoningRun).where(
        ZoningRun.methodology_id == methodology_id,
        ZoningRun.is_official.is_(True),
        ZoningRun.scope.in_(scopes if scopes is not None else [""]),
    )
    if period is not None:
        query = query.where(ZoningRun.period == period)
    return db.session.execute(
        query.order_by(
            ZoningRun.period.desc(), ZoningRun.published_at.desc().nulls_last(), ZoningRun.id.desc()
        ).limit(1)
    ).scalar_one_or_none()


def status_summary() -> dict[str, Any]:
    """Scheduler heartbeat, the zoning lease and the last finished run, for health endpoints."""
    now = utcnow()
    beat = db.session.get(Lease, "scheduler.heartbeat")
    held = db.session.get(Lease, "zoning")
    last = db.session.execute(
        select(ZoningRun)
        .where(ZoningRun.state.in_(("succeeded", "failed")))
        .order_by(ZoningRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    queued = db.session.execute(
        select(db.func.count()).select_from(ZoningRun).where(ZoningRun.state == "queued")
    ).scalar_one()
    return {
        "scheduler": {
            "heartbeat_at": None if beat is None else shown(beat.heartbeat_at),
            "is_alive": beat is not None and beat.expires_at is not None and beat.expires_at > now,
        },
        "zoning_lease": {
            "is_held": held is not None and held.holder is not None and held.expires_at > now,
            "run_id": None if held is None else held.run_id,
            "expires_at": None if held is None else shown(held.expires_at),
        },
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "state": last.state,
            "mode": last.mode,
            "dry_run": last.is_dry_run,
            "finished_at": shown(last.finished_at),
            "duration_seconds": last.duration_seconds,
            "error": render_reason(last.error, last.error_params),
        },
        "queued_runs": queued,
    }


def rerun(original: ZoningRun, *, trigger: str = "cli", user: User | None = None) -> ZoningRun:
    """Queue a run that repeats ``original`` exactly: its methodology version and hash (draft
    weights included), period and scope, over every unit (409 when that cannot be done).

    The rerun is a dry run: a check that the stored numbers are reproduced, never a new
    official result, and it leaves the dirty markers to the next real run."""
    registry = get_registry()
    methodology = registry.methodology(original.methodology_id, original.methodology_version)
    if methodology is None or weights_hash(methodology, original.weights) != (
        original.methodology_hash
    ):
        raise ApiError(
            "conflict",
            _(
                "Version %(version)s of methodology %(methodology)s (the file the run used) is "
                "no longer loaded; the run cannot be repeated.",
                version=original.methodology_version,
                methodology=original.methodology_id,
            ),
        )
    if registry.catalogue.content_hash != original.catalogue_hash:
        raise ApiError(
            "conflict",
            N_("The legal catalogue changed since the run; it cannot be repeated exactly."),
        )
    if original.state != "succeeded":
        raise ApiError(
            "conflict",
            _(
                "Only a succeeded run can be repeated; this one is %(state)s.",
                state=state(original.state),
            ),
        )
    if user is not None and not in_scope(user, original.scope or None):
        raise ApiError("out_of_scope", N_("This region is outside your scope."))
    run = _queued_run(
        user,
        trigger,
        methodology_id=original.methodology_id,
        methodology_version=original.methodology_version,
        methodology_hash=original.methodology_hash,
        catalogue_hash=original.catalogue_hash,
        period=original.period,
        scope=original.scope,
        requested_mode="full",
        is_dry_run=True,
        weights=original.weights,
        rerun_of_id=original.id,
    )
    record(
        "zoning_run.rerun",
        "zoning_run",
        run.id,
        after={
            "rerun_of": original.id,
            "methodology": run.methodology_id,
            "methodology_version": run.methodology_version,
            "methodology_hash": run.methodology_hash,
            "period": run.period,
            "scope": run.scope,
            "trigger": run.trigger,
        },
        actor=user,
        region=run.scope or None,
    )
    return run

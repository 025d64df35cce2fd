"""Retention: old delivered and dead deliveries, their attempt log, and fanned-out outbox events
are deleted (the scheduler's hourly ``webhooks.purge`` job, ``flask --app app webhooks purge``).

A delivery keeps the exact bytes sent and every attempt's answer: useful while someone may ask
"did it arrive?", dead weight after. Delivered ones go after ``WEBHOOKS_KEEP_DELIVERED_DAYS``
(counted from their delivery), dead ones after ``WEBHOOKS_KEEP_DEAD_DAYS`` (counted from their
last attempt's due time, ``next_attempt_at``: a dead delivery has no later timestamp), so an
admin has longer to notice and redeliver them; a redelivery makes it pending again, which no
purge touches. An outbox event goes once it is fanned out, older than the delivered cutoff, and
no delivery that stays references it. 0 days keeps that kind forever.

Deletion is batched (``PURGE_BATCH`` rows, one short transaction each) so it never holds long
locks on tables the worker and requests write; each DELETE repeats its condition, so a delivery
an admin redelivers meanwhile is left alone. Attempts go with their delivery (ON DELETE CASCADE).
A purge is housekeeping, not an act of a person: it is logged, not audited (decisions.md,
"Issue 15: leftovers").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select

from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.outbox.models import OutboxEvent
from fieldcheck.webhooks.models import WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

#: Rows deleted per transaction.
PURGE_BATCH = 500


@dataclass
class Purged:
    """What a purge deleted (or, dry, would delete)."""

    deliveries: int = 0
    attempts: int = 0
    events: int = 0


@dataclass(frozen=True)
class Cutoffs:
    """Older than these goes; None keeps that kind."""

    delivered_before: datetime | None
    dead_before: datetime | None


def cutoffs(config: Any, now: datetime) -> Cutoffs:
    """The cutoffs the settings give at ``now``."""

    def before(days: int) -> datetime | None:
        return now - timedelta(days=days) if days > 0 else None

    return Cutoffs(
        before(config["WEBHOOKS_KEEP_DELIVERED_DAYS"]), before(config["WEBHOOKS_KEEP_DEAD_DAYS"])
    )


def _expired(cut: Cutoffs) -> ColumnElement[bool]:
    kinds = []
    if cut.delivered_before is not None:
        kinds.append(
            and_(
                WebhookDelivery.state == "delivered",
                WebhookDelivery.delivered_at < cut.delivered_before,
            )
        )
    if cut.dead_before is not None:
        kinds.append(
            and_(WebhookDelivery.state == "dead", WebhookDelivery.next_attempt_at < cut.dead_before)
        )
    return or_(*kinds) if kinds else false()


def _expired_events(cut: Cutoffs) -> ColumnElement[bool]:
    if cut.delivered_before is None:
        return false()
    # Referenced by a delivery that stays (pending, or not old enough): kept. In a dry run the
    # expired deliveries are still there, hence "that stays" rather than "any".
    kept = exists().where(WebhookDelivery.outbox_event_id == OutboxEvent.id, ~_expired(cut))
    return and_(
        OutboxEvent.delivered_at.is_not(None),
        OutboxEvent.delivered_at < cut.delivered_before,
        ~kept,
    )


def purge(dry_run: bool = False, batch: int = PURGE_BATCH, cut: Cutoffs | None = None) -> Purged:
    """Delete what the retention settings (or ``cut``) let go, in batches; counts of what went
    (dry_run: of what would go, nothing deleted). Runs in the current app context; commits."""
    cut = cut or cutoffs(current_app.config, utcnow())
    done = Purged()
    if dry_run:
        done.deliveries = _count(
            select(func.count()).select_from(WebhookDelivery).where(_expired(cut))
        )
        done.attempts = _attempts(_expired(cut))
        done.events = _count(
            select(func.count()).select_from(OutboxEvent).where(_expired_events(cut))
        )
        db.session.rollback()
        return done
    # Each batch selects afresh, so a row a racing redelivery saved (the DELETE's repeated
    # condition skipped it) is not selected again: the loops end.
    while ids := _ids(select(WebhookDelivery.id).where(_expired(cut)), WebhookDelivery.id, batch):
        still = and_(WebhookDelivery.id.in_(ids), _expired(cut))
        done.attempts += _attempts(still)  # they go by cascade, with their delivery
        done.deliveries += db.session.execute(
            delete(WebhookDelivery).where(still).execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    while ids := _ids(select(OutboxEvent.id).where(_expired_events(cut)), OutboxEvent.id, batch):
        done.events += db.session.execute(
            delete(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), _expired_events(cut))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    if done.deliveries or done.events:
        log.info(
            "webhooks purge: %s deliveries (%s attempts) and %s outbox events deleted "
            "(delivered before %s, dead before %s)",
            done.deliveries,
            done.attempts,
            done.events,
            cut.delivered_before,
            cut.dead_before,
        )
    return done


def _ids(query: Any, column: Any, batch: int) -> list[int]:
    return list(db.session.execute(query.order_by(column).limit(batch)).scalars())


def _count(query: Any) -> int:
    return int(db.session.execute(query).scalar_one())


def _attempts(deliveries: ColumnElement[bool]) -> int:
    return _count(
        select(func.count())
        .select_from(WebhookAttempt)
        .join(WebhookDelivery, WebhookAttempt.delivery_id == WebhookDelivery.id)
        .where(deliveries)
    )

"""The demo's published zoning run: computed and published the way an admin would.

A national run of the default methodology for this year is queued, executed (as ``rescore``
does, in this process) and published by the demo admin through ``publication.services``, so a
fresh ``make run`` shows zones and an official result. Seeding again adds no run unless the
demo visits changed or no run is published for the year.
"""

from __future__ import annotations

import logging

from fieldcheck.auth.models import User
from fieldcheck.extensions import db
from fieldcheck.publication.services import publish
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import (
    create_run,
    current_period,
    default_methodology_id,
    official_run,
)

log = logging.getLogger(__name__)


def publish_demo_run(admin: User, visits_changed: bool) -> ZoningRun | None:
    """Run zoning nationally for this year and publish it as ``admin``; None when the published
    run is already current (nothing new since it). Commits: the run reads committed data on
    its own connection, as a scheduled run does."""
    methodology_id = default_methodology_id()
    period = current_period()
    if not visits_changed and official_run(methodology_id, period, "") is not None:
        return None
    db.session.commit()  # the run's read phase sees only what is committed
    run = create_run(methodology_id=methodology_id, period=period, trigger="cli", user=admin)
    db.session.commit()
    run_id = run.id
    outcome = execute(run_id)
    run = db.session.get(ZoningRun, run_id)
    if outcome.state != "succeeded" or run is None:
        log.warning("demo zoning run #%s did not succeed: %s", run_id, outcome.message)
        return None
    publish(run, admin)
    return run

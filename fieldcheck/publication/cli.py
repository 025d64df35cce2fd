"""``flask --app app rescore``: zoning's command, with ``--publish`` publishing through here."""

from __future__ import annotations

from fieldcheck.publication.services import publish
from fieldcheck.zoning.cli import make_rescore_command
from fieldcheck.zoning.models import ZoningRun


def publish_from_command_line(run: ZoningRun) -> None:
    """Make ``run`` official as the system (an admin at the command line); audited as such."""
    publish(run, None)


rescore_command = make_rescore_command(publish_from_command_line)

"""`flask --app app photos purge-rejected`: only photos of long-rejected inspections go."""

from __future__ import annotations

from datetime import timedelta

from fieldcheck.evidence.models import Photo
from tests.helpers import count_rows, post_json

from . import images
from .conftest import NOW, fetch, sha, stored_files, submit, upload


def _reject(client, inspection_id, token):
    response = post_json(
        client,
        f"/api/v1/inspections/{inspection_id}/review",
        {"decision": "reject", "reason": "Kunjungan tidak dapat dipercaya"},
        token,
    )
    assert response.status_code == 200, response.get_json()


def test_purge_rejected_is_selective_dry_runnable_and_idempotent(
    app, client, factory, runner, world
):
    rejected = submit(client, factory, world.surveyor).json["id"]
    kept = submit(client, factory, world.surveyor).json["id"]
    only_rejected, shared = images.jpeg(seed=20), images.png(seed=21)
    upload(client, f"/api/v1/inspections/{rejected}/photos", only_rejected, world.surveyor)
    upload(client, f"/api/v1/inspections/{rejected}/photos", shared, world.surveyor)
    upload(client, f"/api/v1/inspections/{kept}/photos", shared, world.surveyor)
    _reject(client, rejected, world.supervisor)
    assert len(stored_files(app)) == 4

    # Not old enough yet.
    result = runner.invoke(args=["photos", "purge-rejected", "--older-than-days", "30"])
    assert result.exit_code == 0 and "deleted 0 photo(s)" in result.output

    app.config["CLOCK"] = lambda: NOW + timedelta(days=31)
    dry = runner.invoke(args=["photos", "purge-rejected", "--older-than-days", "30", "--dry-run"])
    assert f"would delete {sha(only_rejected)}" in dry.output
    assert len(stored_files(app)) == 4 and count_rows(app, Photo) == 2

    result = runner.invoke(args=["photos", "purge-rejected", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert f"deleted {sha(only_rejected)}" in result.output
    assert sha(shared) not in result.output  # still evidence of a live inspection
    assert count_rows(app, Photo) == 1
    assert all(sha(only_rejected) not in path for path in stored_files(app))
    assert len(stored_files(app)) == 2
    assert fetch(client, f"/api/v1/photos/{sha(only_rejected)}", world.admin)[0] == 404

    again = runner.invoke(args=["photos", "purge-rejected", "--older-than-days", "30"])
    assert "deleted 0 photo(s)" in again.output

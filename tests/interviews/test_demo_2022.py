"""The demo world (``make run``) shows the 2022 method (issue 16): approved ombudsman-2022
visits to the interviewed agencies' units and an ombudsman-2022 run in which Sidoarjo's
government is zoned and Padang's is incomplete (29 of 30 service users); seeding again adds no
visit and no run."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldcheck.demo.seed import seed_demo
from fieldcheck.extensions import db


def test_demo_has_a_2022_run_with_one_complete_and_one_incomplete_agency(app, tmp_path):
    from fieldcheck.inspections.models import Inspection
    from fieldcheck.zoning.models import ZoningRun, ZoningSubject

    with app.test_request_context():
        seed_demo(tokens_file=tmp_path / "tokens.txt", method_2022=True)
        db.session.commit()
        visits = select(func.count(Inspection.id)).where(
            Inspection.methodology_id == "ombudsman-2022", Inspection.status == "approved"
        )
        runs = select(func.count(ZoningRun.id)).where(ZoningRun.methodology_id == "ombudsman-2022")
        first = (db.session.execute(visits).scalar_one(), db.session.execute(runs).scalar_one())
        assert first == (6, 1)
        seed_demo(tokens_file=tmp_path / "tokens.txt", method_2022=True)
        db.session.commit()
        again = (db.session.execute(visits).scalar_one(), db.session.execute(runs).scalar_one())
        assert again == first
        run = db.session.execute(
            select(ZoningRun).where(ZoningRun.methodology_id == "ombudsman-2022")
        ).scalar_one()
        assert run.state == "succeeded"
        subjects = {
            s.code: s
            for s in db.session.execute(
                select(ZoningSubject).where(ZoningSubject.run_id == run.id)
            ).scalars()
        }
        sidoarjo, padang = subjects["PEMKAB-35.15"], subjects["PEMKOT-13.71"]
        assert sidoarjo.is_complete, sidoarjo.gaps
        assert not padang.is_complete
        assert [g["source"] for g in padang.gaps] == ["pengguna"]
        # A 2022 visit has a score but no zone of its own (core.scoring.score).
        visit = db.session.execute(
            select(Inspection).where(Inspection.methodology_id == "ombudsman-2022").limit(1)
        ).scalar_one()
        assert visit.score is not None and visit.zone is None


def test_demo_dashboard_under_the_2022_method(app, client, tmp_path):
    with app.test_request_context():
        tokens = seed_demo(tokens_file=tmp_path / "tokens.txt", method_2022=True)
        db.session.commit()
    admin = next(token for _name, role, _region, token in tokens if role == "admin")
    body = client.get(
        "/api/v1/dashboard?methodology=ombudsman-2022",
        headers={"Authorization": f"Bearer {admin}", "Accept-Language": "id"},
    ).get_json()
    subjects = body["results"]["subjects"]
    # Sidoarjo is zoned; Padang and the agencies visited only under the 2019 method (no
    # interviews at all) are incomplete, every one of them short of service users.
    assert (subjects["level"], subjects["complete"]) == ("agency", 1)
    assert subjects["incomplete"] > 1
    assert {"reason": "Wawancara pengguna layanan kurang", "subjects": subjects["incomplete"]} in (
        subjects["reasons"]
    )
    assert sum(body["results"]["zones"]["agency"].values()) == 1

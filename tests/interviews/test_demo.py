"""The demo world (``make run``) has interviews: Sidoarjo's quotas met, Padang's 29 of 30 users;
seeding again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldcheck.demo.seed import seed_demo
from fieldcheck.extensions import db


def test_demo_interviews(app, tmp_path):
    from fieldcheck.auth.models import User
    from fieldcheck.interviews.models import Interview
    from fieldcheck.zoning.interview_coverage import coverage, coverage_body
    from fieldcheck.zoning.services import current_period

    with app.test_request_context():
        seed_demo(tokens_file=tmp_path / "tokens.txt")
        db.session.commit()
        first = db.session.execute(select(func.count(Interview.id))).scalar_one()
        seed_demo(tokens_file=tmp_path / "tokens.txt")
        db.session.commit()
        assert db.session.execute(select(func.count(Interview.id))).scalar_one() == first
        admin = db.session.execute(select(User).where(User.role == "admin")).scalars().first()
        body = coverage_body(
            coverage(admin, methodology_id="ombudsman-2022", period=current_period())
        )
    agencies = {a["agency_code"]: a for a in body["agencies"]}
    sidoarjo = {i["code"]: i for i in agencies["PEMKAB-35.15"]["instruments"]}
    padang = {i["code"]: i for i in agencies["PEMKOT-13.71"]["instruments"]}
    assert all(i["complete"] for i in sidoarjo.values())
    assert (padang["pengguna"]["have"], padang["pengguna"]["need"]) == (29, 30)
    assert padang["petugas_pengaduan"]["complete"] and padang["staf"]["complete"]

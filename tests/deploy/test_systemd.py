"""deploy/systemd: the units pass ``systemd-analyze verify`` and its offline security review, and
the environment file's example is a configuration the app accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fieldcheck.config import load_config

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (Debian: package systemd)"
)


def _installed_here(tmp_path: Path) -> Path:
    """The units with /opt/fieldcheck pointing at this checkout and its virtualenv, so verify can
    check that every ExecStart= program exists."""
    venv_bin = Path(sys.executable).parent
    for unit in [*SERVICES, *UNITS.glob("*.timer")]:
        text = unit.read_text()
        text = text.replace("/opt/fieldcheck/.venv/bin/", f"{venv_bin}/")
        text = text.replace("/opt/fieldcheck", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    return tmp_path


@needs_systemd
def test_units_verify(tmp_path):
    here = _installed_here(tmp_path)
    names = sorted(p.name for p in here.iterdir())
    result = subprocess.run(  # noqa: S603 - systemd's own checker on our files
        [ANALYZE, "verify", *names], cwd=here, capture_output=True, text=True
    )
    ours = [line for line in result.stderr.splitlines() if "fieldcheck" in line]
    assert result.returncode == 0 and not ours, result.stderr


@needs_systemd
@pytest.mark.parametrize("unit", [p.name for p in SERVICES])
def test_services_are_sandboxed(tmp_path, unit):
    here = _installed_here(tmp_path)
    result = subprocess.run(  # noqa: S603
        [ANALYZE, "security", "--offline=yes", "--no-pager", unit],
        cwd=here,
        capture_output=True,
        text=True,
    )
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert level, result.stdout + result.stderr
    # 0 is a sealed box, 10 an unprotected root service; below 2 is systemd's "OK".
    assert float(level.group(1)) < 2.0, result.stdout


def test_services_run_as_the_service_user_with_their_environment_file():
    for unit in SERVICES:
        text = unit.read_text()
        assert "User=fieldcheck" in text, unit.name
        assert "EnvironmentFile=/etc/fieldcheck/fieldcheck.env" in text, unit.name
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text, unit.name
        # Only the migration unit sees the owner's URL.
        assert ("owner.env" in text) == (unit.name == "fieldcheck-migrate.service"), unit.name


def test_the_environment_file_example_is_a_valid_configuration(tmp_path):
    env = {}
    for line in (UNITS / "fieldcheck.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env["FIELDCHECK_CONFIG"] = str(ROOT / "config.example.toml")
    config = load_config(environ=env, instance_path=str(tmp_path))
    assert config["DATABASE_URL"].startswith("postgresql+psycopg://fieldcheck_app:")
    assert "FIELDCHECK_MIGRATION_DATABASE_URL" not in env

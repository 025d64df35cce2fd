"""``pip install`` of the project into a fresh venv gives a working ``fieldcheck-sync`` without
Flask or any other server library."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.client.conftest import ROOT

pytestmark = pytest.mark.slow


def _run(*argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed commands in a temporary venv
        [str(a) for a in argv], capture_output=True, text=True, check=False, timeout=600, **kwargs
    )


def test_pip_install_gives_the_command_without_the_server(tmp_path):
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    python, sync = venv / "bin" / "python", venv / "bin" / "fieldcheck-sync"
    # A clean copy of the checkout, as a fresh clone would be: setuptools builds in the source
    # tree and would reuse a build/ left there by an earlier install.
    source = tmp_path / "fieldcheck-src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "*.egg-info", "instance", "__pycache__", "bench", "tests", "*.mo"
        ),
    )
    installed = _run(python, "-m", "pip", "install", "--no-cache-dir", source, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    shown = _run(sync, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "usage: fieldcheck-sync" in shown.stdout and "--token-file" in shown.stdout

    listed = _run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path)
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert {"requests", "tqdm", "fieldcheck"} <= names
    assert not names & {"flask", "sqlalchemy", "marshmallow", "gunicorn", "psycopg"}

    # The installed package, not the checkout: run from elsewhere, and no server module came.
    probe = _run(
        python,
        "-c",
        "import fieldcheck.client.sync as s, importlib.util as u; "
        "print(s.__file__); print(u.find_spec('fieldcheck.factory'))",
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    where, factory = probe.stdout.splitlines()
    assert where.startswith(str(venv)) and factory == "None"

    # Without a token it says so and exits 2 (usage), before any network.
    folder = tmp_path / "kosong"
    folder.mkdir()
    refused = _run(sync, folder, "--server", "http://127.0.0.1:9", cwd=tmp_path, env={"PATH": ""})
    assert refused.returncode == 2 and "FIELDCHECK_TOKEN" in refused.stderr

"""The layer contract (`.importlinter`) fails on a back-edge, a service importing a blueprint,
and an impure core.

Each test runs ``lint-imports`` on a copy of the Python sources with one bad import added, and
looks for that very import in the report: the tree as it stands may have violations of its own,
and the check must catch the added one whatever they are. About two seconds per run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _python_only(directory: str, names: list[str]) -> list[str]:
    """Copy packages and .py files only (data files and caches do not shape imports)."""
    return [
        n
        for n in names
        if n == "__pycache__" or not (n.endswith(".py") or Path(directory, n).is_dir())
    ]


def _lint_with(tmp_path: Path, module: str, bad_import: str) -> str:
    """Run lint-imports over a copy of the tree where ``module`` has ``bad_import`` added."""
    for package in ("fieldcheck", "schemas"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_python_only)
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{bad_import}\n", encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - our own venv's lint-imports, fixed arguments
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, done.stdout
    return done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "reported"),
    [
        pytest.param(
            "fieldcheck/units/services.py",
            "from fieldcheck.review.decisions import OUTCOME  # noqa",
            "fieldcheck.units.services -> fieldcheck.review.decisions",
            id="a service imports a higher package",
        ),
        pytest.param(
            "fieldcheck/inspections/models.py",
            "from fieldcheck.evidence.models import Photo  # noqa",
            "fieldcheck.inspections.models -> fieldcheck.evidence.models",
            id="a model imports a higher package",
        ),
        pytest.param(
            "fieldcheck/evidence/state.py",
            "from fieldcheck.units.routes import bp  # noqa",
            "fieldcheck.evidence.state -> fieldcheck.units.routes",
            id="a service imports a blueprint",
        ),
        pytest.param(
            "fieldcheck/units/routes.py",
            "from fieldcheck.review.routes import bp  # noqa",
            "fieldcheck.units.routes -> fieldcheck.review.routes",
            id="a blueprint imports a higher blueprint",
        ),
        pytest.param(
            "fieldcheck/core/scoring.py",
            "import sqlalchemy  # noqa",
            "fieldcheck.core.scoring -> sqlalchemy",
            id="the core imports SQLAlchemy",
        ),
        pytest.param(
            "fieldcheck/review/decisions.py",
            "from schemas.review import ReviewSchema  # noqa",
            "fieldcheck.review.decisions -> schemas.review",
            id="a service imports a wire schema",
        ),
    ],
)
def test_lint_imports_reports_the_added_import(
    tmp_path: Path, module: str, bad_import: str, reported: str
) -> None:
    """The contract breaks, naming the import that was added."""
    assert reported in _lint_with(tmp_path, module, bad_import)

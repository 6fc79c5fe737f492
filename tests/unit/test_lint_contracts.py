"""The layers and the public-API rule are enforced, not only written down (issues 44, 45):
an import planted in a copy of the code makes `lint-imports` fail, naming it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packages import FIRST_PARTY as PACKAGES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def copy(tmp_path) -> Path:
    for name in PACKAGES:
        shutil.copytree(
            REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.jsa")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def test_the_copy_is_clean_as_the_repository_is(copy):
    assert _lint(copy).returncode == 0


@pytest.mark.parametrize(
    "module, planted, named",
    [
        (
            "orchestration/watch.py",
            "from dagster._core.storage.tags import PARTITION_NAME_TAG  # noqa\n",
            "a private module imported: orchestration.watch",
        ),
        (
            "publications/claims.py",
            "from spark_runtime import session  # noqa\n",
            "publications.claims",
        ),
        ("expectations/screen.py", "import orchestration.alerts  # noqa\n", "expectations.screen"),
        (
            "expectations/screen.py",
            "from spark_runtime import session  # noqa\n",
            "expectations.screen",
        ),
        ("fullsite/layout.py", "import benchmarks.report  # noqa\n", "fullsite.layout"),
        ("publications/claims.py", "import tests.published  # noqa\n", "publications.claims"),
    ],
)
def test_a_planted_forbidden_import_fails_lint(copy, module, planted, named):
    path = copy / module
    path.write_text(planted + path.read_text())
    done = _lint(copy)
    assert done.returncode != 0 and named in done.stdout, done.stdout[-2000:]


def test_every_first_party_package_is_in_the_contract():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages == set(PACKAGES), packages ^ set(PACKAGES)

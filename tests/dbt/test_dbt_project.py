"""The dbt project on its own: every unit test (the rules with hand-computed rows), every
data test on real curated data, and the docs site."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fullsite.rules import DBT_PROJECT_DIR
from tests.conftest import PUBLISHED

DBT = str(Path(sys.executable).parent / "dbt")


def dbt(root: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FULLSITE_DATA_ROOT": str(root), "FULLSITE_DBT_DB": str(work / "dbt.duckdb")}
    return subprocess.run([DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                           "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
                           "--vars", json.dumps({"run_date": str(PUBLISHED)})],
                          env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def built(published_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("dbt")
    result = dbt(published_root, work, "build")
    return work, result


def test_build_with_unit_tests_passes(built):
    work, result = built
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    units = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(units) >= 8 and all(r["status"] == "pass" for r in units)
    assert all(r["status"] in ("pass", "success", "no-op") for r in results)  # exposures are no-ops


def test_docs_generate(built, published_root):
    work, _ = built
    result = dbt(published_root, work, "docs", "generate")
    assert result.returncode == 0, result.stdout[-2000:]
    assert (work / "target" / "catalog.json").exists() and (work / "target" / "index.html").exists()

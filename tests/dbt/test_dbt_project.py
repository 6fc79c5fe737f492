"""The dbt project on its own: every unit test (the rules with hand-computed rows), every
data test on real curated data, and the docs site."""

from __future__ import annotations

import json

import pytest

from fullsite.layout import Layout
from orchestration.warehouse import dbt_in_staging, staging_db
from tests.conftest import PUBLISHED, copy_root


@pytest.fixture(scope="module")
def built(published_root, tmp_path_factory):
    """The whole project built from scratch, unit tests included, on a copy of the shared
    root's curated layer: dbt as the pipeline runs it (in this process, D34)."""
    layout = Layout(copy_root(published_root, tmp_path_factory.mktemp("dbt") / "root"))
    staging_db(layout).unlink(missing_ok=True)  # from scratch, not incrementally
    result = dbt_in_staging(layout, ["build"], {"run_date": str(PUBLISHED)})
    return layout, result


def test_build_with_unit_tests_passes(built):
    layout, result = built
    results = json.loads((layout.staging / "dbt_target" / "run_results.json").read_text())[
        "results"
    ]
    assert result.success, [
        (r["unique_id"], r["message"]) for r in results if r["status"] not in ("pass", "success")
    ]
    units = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(units) >= 8 and all(r["status"] == "pass" for r in units)
    assert all(r["status"] in ("pass", "success", "no-op") for r in results)  # exposures are no-ops


def test_docs_generate(built):
    layout, _ = built
    target = layout.staging / "dbt_target"
    result = dbt_in_staging(layout, ["docs", "generate"], {"run_date": str(PUBLISHED)})
    assert result.success, result.exception
    assert (target / "catalog.json").exists() and (target / "index.html").exists()

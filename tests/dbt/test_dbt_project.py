"""The dbt project on its own: every unit test (the rules with hand-computed rows), every
data test on real curated data, and the docs site."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from fullsite.layout import Layout
from orchestration.warehouse import dbt_in_staging, staging_db
from tests.conftest import PUBLISHED, copy_root


class ProcessWatch(threading.Thread):
    """What another thread of the process sees of its environment and working directory
    while dbt builds (issue 44: a build changes neither)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[tuple[str, str]] = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.seen.add((os.getcwd(), json.dumps(dict(sorted(os.environ.items())))))
            time.sleep(0.005)


@pytest.fixture(scope="module")
def built(published_root, tmp_path_factory):
    """The whole project built from scratch, unit tests included, on a copy of the shared
    root's curated layer: dbt as the pipeline runs it (in this process, D34)."""
    layout = Layout(copy_root(published_root, tmp_path_factory.mktemp("dbt") / "root"))
    staging_db(layout).unlink(missing_ok=True)  # from scratch, not incrementally
    watch = ProcessWatch()
    watch.start()
    try:
        result = dbt_in_staging(layout, ["build"], {"run_date": str(PUBLISHED)})
    finally:
        watch.done.set()
        watch.join()
    return layout, result, watch.seen


def test_a_build_leaves_the_process_environment_and_directory_alone(built):
    *_, seen = built
    assert len(seen) == 1


def test_build_with_unit_tests_passes(built):
    layout, result, _ = built
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
    layout, *_ = built
    target = layout.staging / "dbt_target"
    result = dbt_in_staging(layout, ["docs", "generate"], {"run_date": str(PUBLISHED)})
    assert result.success, result.exception
    assert (target / "catalog.json").exists() and (target / "index.html").exists()

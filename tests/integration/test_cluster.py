"""The Spark stage submitted to a real standalone cluster (master + worker on 127.0.0.1)
gives the same curated output as local mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fullsite import curated
from fullsite.layout import Layout
from spark_jobs.nightly import run_range
from spark_runtime.standalone import SPARK_HOME, ClusterDidNotStart, standalone_cluster
from tests.conftest import FIRST, copy_root

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    try:
        with standalone_cluster(
            tmp_path_factory.mktemp("cluster"), workers=1, cores=2, memory="2g"
        ) as cluster:
            yield cluster
    except ClusterDidNotStart as exc:
        pytest.fail(str(exc))


def _curated(root: Path) -> dict:
    con = duckdb.connect()
    out = {}
    for table in curated.DBT_SOURCES:
        out[table] = con.execute(
            f"select * from read_parquet('{root}/curated/{table}/*/*.parquet', hive_partitioning "
            f"= true) order by all"
        ).fetchall()
    return out


@pytest.mark.slow
def test_spark_submit_to_a_standalone_cluster_matches_local_mode(
    standalone, tiny_raw, spark, tmp_path
):
    url, env = standalone
    local = copy_root(tiny_raw, tmp_path / "local")
    remote = copy_root(tiny_raw, tmp_path / "remote")
    run_range(local, FIRST, FIRST, spark=spark)
    submit = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--master",
        url,
        "--conf",
        "spark.ui.enabled=false",
        str(REPO / "spark_jobs" / "nightly.py"),
        "--data-root",
        str(remote),
        "--date",
        str(FIRST),
    ]
    result = subprocess.run(
        submit,
        env={**env, "PYSPARK_DRIVER_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])[0]["date"] == str(FIRST)
    assert _curated(remote) == _curated(local)
    assert Layout(remote).accepted("impressions").exists()

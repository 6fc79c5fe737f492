"""The Spark stage submitted to a real standalone cluster (master + worker on 127.0.0.1)
gives the same curated output as local mode."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pyspark
import pytest

from fullsite.layout import Layout
from spark_jobs.nightly import run_range
from tests.conftest import FIRST, copy_root

REPO = Path(__file__).resolve().parents[2]
SPARK_HOME = Path(pyspark.__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("cluster")
    port, master_ui, worker_ui = _free_port(), _free_port(), _free_port()
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(work), "SPARK_WORKER_DIR": str(work / "worker"), "PYSPARK_PYTHON": sys.executable}
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    log = open(work / "cluster.log", "w")
    master = subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(master_ui)], env=env, stdout=log, stderr=log)
    worker = subprocess.Popen([spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                               "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", str(worker_ui)],
                              env=env, stdout=log, stderr=log)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{master_ui}/json", timeout=2))
                if any(w.get("state") == "ALIVE" for w in state.get("workers", [])):
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            pytest.fail(f"standalone cluster did not start: {(work / 'cluster.log').read_text()[-2000:]}")
        yield f"spark://127.0.0.1:{port}", env
    finally:
        for proc in (worker, master):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _curated(root: Path) -> dict:
    con = duckdb.connect()
    out = {}
    for table in ("fct_product_daily", "fct_product_traffic_daily", "fct_campaign_segment_daily",
                  "product_lifecycle_daily", "dq_ingest_reconciliation", "dq_quarantine_summary"):
        out[table] = con.execute(f"select * from read_parquet('{root}/curated/{table}/*/*.parquet', hive_partitioning = true) order by all").fetchall()
    return out


@pytest.mark.slow
def test_spark_submit_to_a_standalone_cluster_matches_local_mode(standalone_cluster, tiny_raw, spark, tmp_path):
    url, env = standalone_cluster
    local = copy_root(tiny_raw, tmp_path / "local")
    remote = copy_root(tiny_raw, tmp_path / "remote")
    run_range(local, FIRST, FIRST, spark=spark)
    submit = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", url, "--conf", "spark.ui.enabled=false",
              str(REPO / "spark_jobs" / "nightly.py"), "--data-root", str(remote), "--date", str(FIRST)]
    result = subprocess.run(submit, env={**env, "PYSPARK_DRIVER_PYTHON": sys.executable}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])[0]["date"] == str(FIRST)
    assert _curated(remote) == _curated(local)
    assert Layout(remote).accepted("impressions").exists()

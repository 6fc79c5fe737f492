"""dbt into a staging warehouse, then the atomic publication of that file.

Write–audit–publish: dbt builds ``staging/warehouse.duckdb`` from the curated layer; the
marts gate audits it; publication replaces ``<data-root>/warehouse.duckdb`` with one
``os.replace``. A reader holding the old file open keeps its consistent snapshot, new
readers see the new file, and a run killed at any point leaves the published file as it
was (the staging file is simply rebuilt next time).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fullsite.layout import Layout
from fullsite.rules import DBT_PROJECT_DIR
from orchestration.runlog import folder as runlog_folder

# Schemas the analysts get; the staging and intermediate layers stay behind.
PUBLISHED_SCHEMAS = ("marts", "finance", "dq", "params")


@dataclass
class DbtOutcome:
    success: bool
    message: str


def staging_db(layout: Layout) -> Path:
    return layout.staging / "warehouse.duckdb"


def dbt_args(layout: Layout, D: dt.date, command: str = "build") -> list[str]:
    return [command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(layout.staging / "dbt_target"), "--log-path", str(layout.staging / "dbt_logs"),
            "--vars", json.dumps({"run_date": D.isoformat()})]


def run_dbt(layout: Layout, D: dt.date) -> DbtOutcome:
    """``dbt build`` (models, seeds and every dbt test) into a fresh staging file.

    A separate process: dbt-duckdb keeps its database handle open for the life of the
    process, which would pin the staging file and clash with the marts gate's reader."""
    layout.staging.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        Path(str(staging_db(layout)) + suffix).unlink(missing_ok=True)
    env = {**os.environ, "FULLSITE_DATA_ROOT": str(layout.root.resolve()),
           "FULLSITE_DBT_DB": str(staging_db(layout).resolve()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    # Unit tests check the SQL, not the night's data: they run in the test suite.
    args = [*dbt_args(layout, D), "--exclude-resource-type", "unit_test", "--quiet"]
    proc = subprocess.run([str(dbt), *args], env=env, capture_output=True, text=True)
    if proc.returncode == 0:
        return DbtOutcome(True, "dbt build passed")
    results = layout.staging / "dbt_target" / "run_results.json"
    failed = []
    if results.exists():
        failed = [r for r in json.loads(results.read_text()).get("results", [])
                  if r.get("status") in ("error", "fail", "runtime error")]
    if not failed:
        tail = (proc.stdout + proc.stderr).strip().splitlines()
        return DbtOutcome(False, f"dbt could not run: {tail[-1] if tail else 'exit ' + str(proc.returncode)}")
    first = failed[0]
    detail = (first.get("message") or first.get("status") or "").strip().splitlines()[0]
    return DbtOutcome(False, f"dbt {first['unique_id']}: {detail}" + (f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""))


def finalize_staging(layout: Layout) -> None:
    """Shape the staging file into what analysts see: published schemas only, the run log
    as a view over its Parquet files."""
    con = duckdb.connect(str(staging_db(layout)))
    try:
        for (schema,) in con.execute("select schema_name from information_schema.schemata "
                                     "where catalog_name = current_database()").fetchall():
            if schema not in PUBLISHED_SCHEMAS and schema not in ("main", "information_schema", "pg_catalog"):
                con.execute(f'drop schema "{schema}" cascade')
        con.execute("create schema if not exists dq")
        logs = runlog_folder(layout.root).resolve() / "*.parquet"
        con.execute(f"""create or replace view dq.run_log as
                        select run_id, ingest_date, started_at, finished_at, status, failed_gate, message, timings, data_docs
                        from read_parquet('{logs}')""")
        con.execute("checkpoint")
    finally:
        con.close()


def publish(layout: Layout) -> None:
    """The one atomic step: the staging file becomes the published warehouse."""
    os.replace(staging_db(layout), layout.warehouse)
    shutil.rmtree(layout.staging / "dbt_logs", ignore_errors=True)

"""Dagster is the runner: the CLI, the schedule and the UI start the same job, on the data
root's own instance, and the instance shows what ran (issue 18)."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from typer.testing import CliRunner

from orchestration import definitions as d
from orchestration import runlog, state
from orchestration.cli import app
from orchestration.launch import add_nights, dagster_home, instance
from orchestration.pipeline import StageFailed
from orchestration.state import RunRefused
from tests.conftest import FIRST, NEXT, PUBLISHED
from tests.runs import night, one_record, through_dagster_api

# That the CLI and Dagster's own API publish identical tables is proven where a killed run is
# recovered through the API (tests/integration/test_pipeline.py): one night for two properties.


def test_definitions_load_with_schedule_partitions_layers_and_external_raw(tiny_raw):
    defs = d.build_definitions(tiny_raw)
    schedule = defs.resolve_schedule_def(f"{d.JOB}_schedule")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors == {
        "landing_sensor": dg.DefaultSensorStatus.STOPPED,
        "deadline_sensor": dg.DefaultSensorStatus.RUNNING,
        "alert_retry_sensor": dg.DefaultSensorStatus.RUNNING,
        "run_record_sensor": dg.DefaultSensorStatus.RUNNING,
        "run_failure_alert": dg.DefaultSensorStatus.RUNNING,
    }
    job = defs.resolve_job_def(d.JOB)
    assert isinstance(job.partitions_def, dg.DynamicPartitionsDefinition)  # the nights that exist
    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["raw/impressions"] == "raw" and groups["curated/fct_product_daily"] == "curated"
    assert (
        groups["staging/stg_products"] == "staging"
        and groups["intermediate/int_product_windows_daily"] == "intermediate"
    )
    assert (
        groups["finance/compensation_claims"] == "finance"
        and groups["dq/ingest_reconciliation"] == "dq"
    )
    assert groups["marts/campaign_roi_7d"] == "marts" and groups["published_warehouse"] == "publish"
    # observed, never written
    assert not graph.get(dg.AssetKey(["raw", "impressions"])).is_materializable
    roi = graph.get(dg.AssetKey(["marts", "campaign_roi_7d"]))
    assert roi.description and "Raw SQL" not in roi.description
    assert roi.metadata["dagster/table_name"] == "warehouse.marts.campaign_roi_7d"
    # The UI renders descriptions as Markdown: a bare <placeholder> would vanish as an HTML tag.
    import re

    bare = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if "<" in re.sub(r"`[^`]*`", "", graph.get(k).description or "")
    }
    assert bare == set(), bare


def test_a_cli_backfill_leaves_each_night_on_its_own_in_the_instance(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    with instance(published_root) as inst:
        runs = inst.get_run_records(dg.RunsFilter(job_name=d.JOB))
        # one run for the range
        assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
        nights = [str(FIRST + dt.timedelta(days=k)) for k in range((PUBLISHED - FIRST).days + 1)]
        # the partitions are the nights that exist
        assert inst.get_dynamic_partitions(d.NIGHTS_NAME) == nights
        materialized = inst.fetch_materializations(d.PUBLISHED, limit=100).records
        # recorded night after night (issue 44)
        assert [r.partition_key for r in materialized] == nights[::-1]
        assert inst.get_latest_materialization_event(
            d.PUBLISHED
        ).asset_materialization.partition == str(PUBLISHED)
        own = {
            r.partition_key: r.asset_materialization.metadata["run_id"].value for r in materialized
        }
        assert own == {
            str(r["ingest_date"]): r["run_id"]
            for r in runlog.read_all(published_root)
            if r["status"] == "success"
        }
        raw = inst.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(["raw", "clicks"]), "raw_gate"), limit=100
        )
        # each night's own raw gate
        assert sorted(x.event.asset_check_evaluation.partition for x in raw) == nights
        brief = inst.fetch_materializations(d.BRIEF, limit=100).records
        # after publication: the range's last date
        assert len(brief) == 1 and brief[0].partition_key == str(PUBLISHED)
        assert brief[0].asset_materialization.metadata["brief"].value == str(
            published_root / "reports" / "brief" / f"{PUBLISHED}.html"
        )
        marts = inst.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(d.PUBLISHED, "marts_gate"), limit=10
        )
        assert [(x.status.value, x.event.asset_check_evaluation.partition) for x in marts] == [
            ("SUCCEEDED", str(PUBLISHED))
        ]
    records = [r for r in runlog.read_all(published_root) if r["status"] == "success"]
    assert {r["dagster_run_id"] for r in records} == {runs[0].dagster_run.run_id}
    assert one_record(published_root, runs[0].dagster_run.run_id) == "success"
    # each night its own finish, not the backfill's
    assert len({r["finished_at"] for r in records}) > 1
    assert all(r["shared_with"] == records[-1]["run_id"] for r in records[:-1])
    note = (published_root / "data_docs" / records[0]["run_id"] / "index.html").read_text()
    assert (
        "the curated and marts gates ran once for the backfill" in note
        and records[-1]["run_id"] in note
    )
    # the UI an operator opens on this instance: no telemetry, no "join the community" pop-up
    assert yaml.safe_load((published_root / "dagster" / "dagster.yaml").read_text()) == {
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
    }
    assert records[-1]["gates"] and '"marts"' in records[-1]["gates"]


def test_a_failing_raw_gate_is_a_failed_check_with_readable_metadata(scratch_root, spark):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    for f in (scratch_root / "raw" / "merchants" / f"dt={NEXT}").glob("*.parquet"):
        f.unlink()
    result = through_dagster_api(scratch_root, NEXT)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert {e.check_name for e in failed} == {"raw_gate"}
    meta = failed[0].metadata
    assert f"no data file for dt={NEXT} in merchants" in meta["findings"].value
    assert meta["data docs"].value.endswith("index.html")
    assert not any(e.asset_key == d.PUBLISHED for e in result.get_asset_materialization_events())
    assert state.last_success(scratch_root) == PUBLISHED
    assert one_record(scratch_root, result.run_id) == "failed"
    last = runlog.read_all(scratch_root)[-1]
    assert (last["failed_gate"], last["data_docs"]) == ("raw", meta["data docs"].value)
    assert f"no data file for dt={NEXT} in merchants" in last["message"]


def test_a_second_run_is_refused_clearly_from_the_cli_and_from_dagster(scratch_root):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    with instance(scratch_root) as inst:
        add_nights(inst, NEXT, NEXT)
    with state.run_lock(scratch_root):  # a run is in progress
        result = through_dagster_api(scratch_root, NEXT)
        shown = subprocess.run(
            [
                sys.executable,
                "-m",
                "orchestration.cli",
                "run",
                "--data-root",
                str(scratch_root),
                "--date",
                str(NEXT),
            ],
            capture_output=True,
            text=True,
        )
        executed = subprocess.run(
            [
                str(Path(sys.executable).parent / "dagster"),
                "job",
                "execute",
                "-m",
                "orchestration.definitions",
                "-j",
                d.JOB,
                "--tags",
                json.dumps({"dagster/partition": str(NEXT)}),
            ],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "FULLSITE_DATA_ROOT": str(scratch_root),
                "DAGSTER_HOME": str(dagster_home(scratch_root)),
            },
        )
        with pytest.raises(RunRefused, match="another run holds"):
            night(scratch_root, NEXT)
    with instance(scratch_root) as inst:
        run = inst.get_run_by_id(result.run_id)
        assert (
            run.tags[d.REFUSED].startswith("another run holds")
            and run.status == dg.DagsterRunStatus.FAILURE
        )
    # each refused run is one record: Dagster, status and the run log say refused
    refused = {
        r["dagster_run_id"] for r in runlog.read_all(scratch_root) if r["ingest_date"] == NEXT
    }
    assert len(refused) == 4 and {one_record(scratch_root, r) for r in refused} == {"refused"}
    # a script sees the refusal, whatever starts it
    assert executed.returncode != 0, executed.stdout[-2000:]
    assert shown.returncode == 2 and shown.stderr.strip().startswith("error: another run holds")
    assert len(shown.stderr.strip().splitlines()) == 1
    assert "Traceback" not in shown.stderr


def test_a_full_disk_is_recorded_in_words(scratch_root, spark, monkeypatch):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    import expectations.gates as gates

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(scratch_root / "data_docs"))

    monkeypatch.setattr(gates, "raw_gate", full)
    with pytest.raises(StageFailed, match="the disk is full"):
        night(scratch_root, NEXT)
    last = runlog.read_all(scratch_root)[-1]
    assert (last["status"], last["message"]) == (
        "failed",
        f"the disk is full: no space left to write {scratch_root / 'data_docs'}",
    )
    assert "the disk is full" in (scratch_root / "dq" / "last_error.txt").read_text()
    shown = CliRunner().invoke(
        app, ["status", "--data-root", str(scratch_root), "--run", last["run_id"], "--json"]
    )
    assert shown.exit_code == 0 and '"status": "failed"' in shown.output

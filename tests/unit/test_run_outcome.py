"""The run log's outcome is Dagster's (orchestration/outcome.py, D49): each way a Dagster run
can end, on a real (temporary) Dagster instance, becomes the records' status and words."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from fullsite.layout import Layout
from fullsite.published import BUILD_RECORD
from orchestration import outcome, runlog
from orchestration.names import REFUSED
from orchestration.runlog import RunRecord

NIGHTS = (dt.date(2024, 8, 1), dt.date(2024, 8, 2))


def _ran(inst: dg.DagsterInstance, body) -> str:
    @dg.op
    def step():
        body()

    @dg.job
    def toy():
        step()

    return toy.execute_in_process(instance=inst, raise_on_error=False).run_id


def _open_records(root, dagster_run_id: str) -> list[RunRecord]:
    now = dt.datetime.now(dt.UTC)
    records = [
        RunRecord(f"{day}-{now:%Y%m%dT%H%M%S%f}", day, now, dagster_run_id=dagster_run_id)
        for day in NIGHTS
    ]
    for rec in records:
        rec.write(root)
    return records


def _settled(root, inst, run_id: str) -> list[dict]:
    _open_records(root, run_id)
    assert all(r["status"] == "running" for r in runlog.open_rows(root))
    outcome.settle(root, inst, run_id)
    assert not runlog.open_rows(root)  # closed once written
    return [r for r in runlog.read_all(root) if r["dagster_run_id"] == run_id]


@pytest.fixture
def inst():
    with dg.instance_for_test() as instance:
        yield instance


def _told(root) -> dict[str, dict]:
    """The alerts told (dq/alerts.jsonl), by key."""
    path = Path(root) / "dq" / "alerts.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return {a["key"]: a for a in map(json.loads, lines)}


def test_a_success_is_success_and_tells_its_warnings(tmp_path, inst):
    run_id = _ran(inst, lambda: None)
    records = _open_records(tmp_path, run_id)
    records[0].gates = {"raw": {"passed": True, "evaluated": 3, "errors": [], "warnings": ["w"]}}
    records[0].write(tmp_path)
    outcome.settle(tmp_path, inst, run_id)
    rows = runlog.read_all(tmp_path)
    assert [r["status"] for r in rows] == ["success", "success"]
    assert all(r["finished_at"] is not None for r in rows)
    digest = _told(tmp_path)[f"warnings/{run_id}"]
    assert (digest["status"], digest["findings"]) == ("published_with_warnings", ["w"])


def test_the_steps_failure_names_its_night_gate_and_docs(tmp_path, inst):
    box: dict = {}

    def fail():
        raise dg.Failure(
            description="raw gate: no data file",
            metadata={"gate": "raw", "data docs": "/docs/index.html", "run_id": box["night"]},
        )

    records = _open_records(tmp_path, "pending")  # the run id is known once it ran
    box["night"] = records[1].run_id
    run_id = _ran(inst, fail)
    for rec in records:
        rec.dagster_run_id = run_id
        rec.write(tmp_path)
    outcome.settle(tmp_path, inst, run_id)
    first, second = (runlog.read_one(tmp_path, r.run_id) for r in records)
    assert (second["status"], second["failed_gate"], second["message"], second["data_docs"]) == (
        "failed",
        "raw",
        "raw gate: no data file",
        "/docs/index.html",
    )
    assert (first["status"], first["failed_gate"], first["message"]) == (
        "failed",
        None,
        f"not published: the run for {NIGHTS[1]} failed",
    )
    told = _told(tmp_path)[f"failed/{run_id}"]  # the alert, from the same outcome
    assert (told["ingest_date"], told["stage"], told["summary"]) == (
        str(NIGHTS[1]),
        "raw",
        f"the night {NIGHTS[1]} failed: nothing was published",
    )


def test_an_error_dagster_caught_is_a_failure_in_its_words(tmp_path, inst):
    def crash():
        raise RuntimeError("the step could not start")

    rows = _settled(tmp_path, inst, run_id := _ran(inst, crash))
    assert {r["status"] for r in rows} == {"failed"}
    assert rows[0]["message"].startswith(f"the Dagster run {run_id} failed:")
    assert "the step could not start" in rows[0]["message"]


def test_a_refusal_is_refused(tmp_path, inst):
    def refuse():
        raise dg.Failure(description="refused: another run holds the lock")

    run_id = _ran(inst, refuse)
    inst.add_run_tags(run_id, {REFUSED: "another run holds the lock"})
    rows = _settled(tmp_path, inst, run_id)
    assert {(r["status"], r["message"]) for r in rows} == {
        ("refused", "refused: another run holds the lock")
    }
    assert not _told(tmp_path)  # a refusal wakes nobody


def test_a_run_without_a_step_failure_was_interrupted_and_is_settled_only_when_asked(
    tmp_path, inst
):
    """Killed: Dagster records FAILURE with no step failure (orchestration/reconcile.py)."""
    run = inst.create_run_for_job(dg.GraphDefinition("killed").to_job())
    inst.report_run_failed(run, "interrupted")
    _open_records(tmp_path, run.run_id)
    assert outcome.settle(tmp_path, inst, run.run_id, interrupted=False) == []
    assert len(runlog.open_rows(tmp_path)) == 2  # left to the holder of the run lock
    outcome.settle(tmp_path, inst, run.run_id)
    rows = runlog.read_all(tmp_path)
    assert {(r["status"], r["message"]) for r in rows} == {("interrupted", runlog.ENDED)}


def test_a_run_not_over_is_left_open(tmp_path, inst):
    run = inst.create_run_for_job(dg.GraphDefinition("started").to_job())
    inst.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
        ),
    )
    _open_records(tmp_path, run.run_id)
    assert outcome.settle(tmp_path, inst, run.run_id) == []
    assert [r["status"] for r in runlog.open_rows(tmp_path)] == ["running", "running"]


def test_a_published_night_says_so_however_its_run_ended(tmp_path, inst):
    run = inst.create_run_for_job(dg.GraphDefinition("killed").to_job())
    inst.report_run_failed(run, "interrupted")
    records = _open_records(tmp_path, run.run_id)
    con = duckdb.connect(str(Layout(tmp_path).warehouse))
    con.execute(
        f"""create schema params;
            create table {BUILD_RECORD} as select 'f' as fingerprint, 'c' as content_fingerprint,
                now() as built_at, date '{NIGHTS[1]}' as data_through,
                '{records[1].run_id}' as run_id, '{run.run_id}' as dagster_run_id"""
    )
    con.close()
    outcome.settle(tmp_path, inst, run.run_id)
    assert runlog.read_one(tmp_path, records[1].run_id)["message"] == runlog.PUBLISHED_THEN_ENDED
    assert runlog.read_one(tmp_path, records[0].run_id)["message"] == runlog.ENDED

    def crash():
        raise RuntimeError("the materializations could not be recorded")

    crashed = _ran(inst, crash)
    records[1].dagster_run_id = crashed
    records[1].status = "running"
    records[1].write(tmp_path)
    outcome.settle(tmp_path, inst, crashed)
    said = runlog.read_one(tmp_path, records[1].run_id)
    assert said["status"] == "failed" and said["message"].startswith(
        f"the night is published; then the Dagster run {crashed} failed: RuntimeError"
    )
    told = _told(tmp_path)[f"failed/{crashed}"]
    assert told["summary"] == f"the night {NIGHTS[1]} is published, then its run failed"

"""`make profile` reads Spark's event log right: job spans, idle time, shuffles, task balance
and the shape of a job's plan (issue 46). A handful of events, as Spark 4 writes them."""

from __future__ import annotations

import json

from benchmarks.spark_profile import phase_table, plan_shape, read_event_log, read_profile

APP = 1_000_000  # the application's start, epoch milliseconds


def _stage(stage_id: int, tasks: int, run_ms: int, shuffle: int, rows_in: int) -> dict:
    metrics = {
        "executorRunTime": run_ms,
        "executorCpuTime": run_ms * 500_000,
        "jvmGCTime": 10,
        "shuffle.write.bytesWritten": shuffle,
        "input.recordsRead": rows_in,
    }
    return {
        "Event": "SparkListenerStageCompleted",
        "Stage Info": {
            "Stage ID": stage_id,
            "Number of Tasks": tasks,
            "Accumulables": [
                {"Name": f"internal.metrics.{k}", "Value": v} for k, v in metrics.items()
            ],
        },
    }


def _job(job_id: int, stages: list[int], start_ms: int, end_ms: int, execution: int) -> list:
    properties = {"spark.sql.execution.id": str(execution)}
    return [
        {
            "Event": "SparkListenerJobStart",
            "Job ID": job_id,
            "Submission Time": APP + start_ms,
            "Stage IDs": stages,
            "Properties": properties,
        },
        {"Event": "SparkListenerJobEnd", "Job ID": job_id, "Completion Time": APP + end_ms},
    ]


def _task(stage_id: int, launch_ms: int, finish_ms: int) -> dict:
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": stage_id,
        "Task Info": {"Launch Time": APP + launch_ms, "Finish Time": APP + finish_ms},
    }


PLAN = """== Physical Plan ==
AdaptiveSparkPlan (9)
+- HashAggregate (6)
   +- Exchange (5)
      +- BroadcastHashJoin LeftOuter BuildRight (4)
         :- Scan parquet  (1)
         +- BroadcastExchange (3)
            +- Scan parquet  (2)


(5) Exchange
Input [2]: [_key#90L, count#114L]
"""


def _events() -> list[dict]:
    return [
        {"Event": "SparkListenerApplicationStart", "Timestamp": APP},
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": 0,
            "physicalPlanDescription": PLAN,
        },
        # two jobs overlapping from 1 s to 4 s, then one from 6 s to 7 s
        *_job(0, [0], 1_000, 3_000, 0),
        *_job(1, [1], 2_000, 4_000, 0),
        *_job(2, [2], 6_000, 7_000, 0),
        _stage(0, 2, 3_000, 4 * 2**20, 100),
        _stage(1, 1, 1_500, 0, 50),
        _stage(2, 1, 900, 0, 0),
        _task(0, 1_000, 3_000),
        _task(0, 1_000, 2_000),
    ]


def test_jobs_stages_and_idle_time():
    profile = read_profile(_events(), APP)
    assert [j.seconds for j in profile.jobs] == [2.0, 2.0, 1.0]
    assert profile.busy() == 4.0  # 1–4 s and 6–7 s: the overlap counted once
    assert profile.task_time(profile.jobs[0]) == 3.0
    assert profile.stages[0].task_seconds == [2.0, 1.0]  # the longest task first
    assert profile.total("input_rows") == 150


def test_a_plan_is_summed_by_the_operators_that_move_rows():
    # the operators' details below the tree are not counted again; a broadcast is its own
    assert plan_shape(PLAN) == "1 Exchange, 1 BroadcastExchange, 1 BroadcastHashJoin, " + (
        "1 HashAggregate"
    )
    assert plan_shape("") == "scan only"


def test_phases_split_the_jobs_by_when_they_started():
    profile = read_profile(_events(), APP)
    start = APP / 1e3
    marks = {
        "launched": start - 2,
        "session": start + 0.5,
        "clean": start + 5,
        "build": start + 8,
        "exited": start + 9,
    }
    table = phase_table(profile, marks, start)
    cleaning, facts = table[3], table[4]
    assert cleaning.startswith("| cleaning") and "| 4.5 | 2 | 3.0 | 1.5 |" in cleaning
    assert "| 4 |" in cleaning  # MiB shuffled
    assert facts.startswith("| facts") and "| 3.0 | 1 | 1.0 | 2.0 |" in facts


def test_the_event_log_is_read_from_its_folder(tmp_path):
    folder = tmp_path / "eventlog_v2_local-1"
    folder.mkdir()
    events = _events()
    (folder / "events_1_local-1").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    (folder / "appstatus_local-1").write_text("")
    assert read_event_log(tmp_path) == events

"""`make profile`: where one night's Spark stage spends its time, from Spark's own event log.

    python -m benchmarks.spark_profile [--scale large] [--work data/bench] [--keep-log DIR]

Runs the Spark stage of the first night of a generated data set (``spark_jobs.nightly``, a
fresh process, as a night is) on an empty data root, with Spark's event log on, and prints
what issue 46 asks to look at: the JVM's start, the jobs and their shuffles, the largest
jobs' plans and the balance of their tasks, the idle time between jobs, and the files the
night wrote. The figures are one run's, on a noisy machine: compare runs, not single numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.run import REPO, START, fresh_root, raw_data
from fullsite.layout import Layout
from spark_jobs import nightly
from spark_runtime.session import get_spark

MIB = 2**20


@dataclass
class Job:
    job_id: int
    start: float  # seconds from the application's start
    end: float
    stages: list[int]
    execution: int | None  # the SQL execution the job belongs to

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Stage:
    tasks: int = 0
    run: float = 0.0  # executor run time, seconds over all tasks
    cpu: float = 0.0
    gc: float = 0.0
    shuffle_write: int = 0  # bytes
    input_rows: int = 0
    output_rows: int = 0
    output_bytes: int = 0
    task_seconds: list[float] = field(default_factory=list)


@dataclass
class Profile:
    jobs: list[Job]
    stages: dict[int, Stage]
    plans: dict[int, str]  # SQL execution id → the first lines of its physical plan

    def busy(self) -> float:
        """Seconds in which at least one job ran (the union of the jobs' spans)."""
        total, end = 0.0, float("-inf")
        for job in sorted(self.jobs, key=lambda j: j.start):
            if job.end > end:
                total += job.end - max(job.start, end)
                end = job.end
        return total

    def job_stages(self, job: Job) -> list[Stage]:
        return [self.stages[s] for s in job.stages if s in self.stages]

    def task_time(self, job: Job) -> float:
        """Seconds the job's tasks ran, summed over the cores."""
        return sum(s.run for s in self.job_stages(job))

    def total(self, name: str) -> float:
        return sum(getattr(s, name) for s in self.stages.values())


# -- reading the event log ----------------------------------------------------------------
def _accumulated(stage_info: dict) -> dict:
    return {a["Name"]: a.get("Value") for a in stage_info.get("Accumulables", [])}


def _stage(info: dict) -> Stage:
    acc = _accumulated(info)

    def value(name: str) -> int:
        return int(acc.get(f"internal.metrics.{name}") or 0)

    return Stage(
        tasks=info["Number of Tasks"],
        run=value("executorRunTime") / 1e3,
        cpu=value("executorCpuTime") / 1e9,
        gc=value("jvmGCTime") / 1e3,
        shuffle_write=value("shuffle.write.bytesWritten"),
        input_rows=value("input.recordsRead"),
        output_rows=value("output.recordsWritten"),
        output_bytes=value("output.bytesWritten"),
    )


def read_profile(events: list[dict], app_start_ms: int) -> Profile:
    """The jobs, stages and plans of one application's events (times from ``app_start_ms``)."""
    jobs: dict[int, Job] = {}
    stages: dict[int, Stage] = {}
    tasks: dict[int, list[float]] = {}
    plans: dict[int, str] = {}
    for e in events:
        kind = e["Event"]
        if kind == "SparkListenerJobStart":
            execution = e.get("Properties", {}).get("spark.sql.execution.id")
            at = (e["Submission Time"] - app_start_ms) / 1e3
            jobs[e["Job ID"]] = Job(
                e["Job ID"], at, at, e["Stage IDs"], int(execution) if execution else None
            )
        elif kind == "SparkListenerJobEnd":
            jobs[e["Job ID"]].end = (e["Completion Time"] - app_start_ms) / 1e3
        elif kind == "SparkListenerStageCompleted":
            stages[e["Stage Info"]["Stage ID"]] = _stage(e["Stage Info"])
        elif kind == "SparkListenerTaskEnd":
            info = e["Task Info"]
            seconds = (info["Finish Time"] - info["Launch Time"]) / 1e3
            tasks.setdefault(e["Stage ID"], []).append(seconds)
        elif kind.endswith("SparkListenerSQLExecutionStart"):
            plans[e["executionId"]] = e.get("physicalPlanDescription", "")
    for stage_id, seconds in tasks.items():
        if stage_id in stages:
            stages[stage_id].task_seconds = sorted(seconds, reverse=True)
    return Profile(sorted(jobs.values(), key=lambda j: j.job_id), stages, plans)


def read_event_log(folder: Path) -> list[dict]:
    """Every event of the one application logged under ``folder`` (uncompressed)."""
    files = sorted(p for p in folder.rglob("events_*") if p.is_file())
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line]


# -- the night, in a child process --------------------------------------------------------
def night(root: Path, date: str) -> dict:
    """One night's Spark stage, as ``spark_jobs.nightly`` runs it, with the epoch of each
    phase's end (the child's answer to the parent, printed as JSON)."""
    spark = get_spark()
    marks = {"session": time.time()}
    layout, day = Layout(root), dt.date.fromisoformat(date)
    nightly.clean_date(spark, layout, day)
    marks["clean"] = time.time()
    nightly.build_date(spark, layout, day)
    marks["build"] = time.time()
    spark.stop()
    marks["stopped"] = time.time()
    return marks


def run_night(root: Path, log_dir: Path) -> dict:
    """Run ``night`` in a fresh process with the event log on; the marks, with its launch."""
    conf = f"spark.eventLog.enabled=true --conf spark.eventLog.dir={log_dir.as_uri()}"
    env = {
        **os.environ,
        "GX_ANALYTICS_ENABLED": "false",
        "FULLSITE_SPARK_LOG_LEVEL": "ERROR",
        "PYSPARK_SUBMIT_ARGS": f"--conf {conf} --conf spark.eventLog.compress=false pyspark-shell",
    }
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.spark_profile", "--night", str(root), str(START)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the profiled night failed:\n{done.stderr[-3000:]}")
    return {"launched": launched, "exited": time.time(), **json.loads(done.stdout.splitlines()[-1])}


# -- the report ---------------------------------------------------------------------------
OPERATORS = (
    "Exchange",
    "BroadcastExchange",
    "Sort",
    "BroadcastHashJoin",
    "SortMergeJoin",
    "Window",
    "HashAggregate",
)


def plan_shape(plan: str) -> str:
    """How many of the operators that move or sort rows a physical plan holds."""
    body = plan.split("\n\n\n")[0]  # the tree, not the operators' details below it
    # an operator's line in the tree: its name, its arguments, then its number "(7)"
    counts = {op: len(re.findall(rf"(?<![A-Za-z]){op}\b[^\n(]*\(\d+\)", body)) for op in OPERATORS}
    return ", ".join(f"{n} {op}" for op, n in counts.items() if n) or "scan only"


def phases(marks: dict, app_start: float) -> list[tuple[str, float, float]]:
    """The night's phases as (name, start, end) in seconds from the application's start."""
    at = {k: v - app_start for k, v in marks.items()}
    return [
        ("Python, JVM and session start", at["launched"], at["session"]),
        ("cleaning (four tables side by side)", at["session"], at["clean"]),
        ("facts and lifecycle", at["clean"], at["build"]),
        ("session stop and exit", at["build"], at["exited"]),
    ]


def phase_table(profile: Profile, marks: dict, app_start: float) -> list[str]:
    rows = [
        "| phase | wall s | jobs | jobs running s | no job s | task s (CPU, GC) "
        "| shuffle MiB | rows read | rows written |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name, start, end in phases(marks, app_start):
        jobs = [j for j in profile.jobs if start <= j.start < end]
        busy = Profile(jobs, profile.stages, {}).busy()
        stages = [s for j in jobs for s in profile.job_stages(j)]
        run, cpu, gc = (sum(getattr(s, k) for s in stages) for k in ("run", "cpu", "gc"))
        rows.append(
            f"| {name} | {end - start:.1f} | {len(jobs)} | {busy:.1f} | {end - start - busy:.1f} "
            f"| {run:.1f} ({cpu:.1f}, {gc:.1f}) "
            f"| {sum(s.shuffle_write for s in stages) / MIB:.0f} "
            f"| {sum(s.input_rows for s in stages):,} | {sum(s.output_rows for s in stages):,} |"
        )
    return rows


def largest_jobs(profile: Profile, count: int = 6) -> list[str]:
    rows = [
        "| job | at s | wall s | task s | tasks: longest, shortest s | rows read | rows written "
        "| shuffle MiB | its query's plan |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    # by the time their tasks ran: a job's wall time includes its wait for the cores
    for job in sorted(profile.jobs, key=lambda j: -profile.task_time(j))[:count]:
        stages = profile.job_stages(job)
        longest = max(stages, key=lambda s: s.run, default=Stage())
        spread = longest.task_seconds
        balance = f"{len(spread)}: {spread[0]:.1f}, {spread[-1]:.1f}" if spread else "-"
        plan = plan_shape(profile.plans.get(job.execution, "")) if job.execution is not None else ""
        rows.append(
            f"| {job.job_id} | {job.start:.1f} | {job.seconds:.1f} "
            f"| {profile.task_time(job):.1f} | {balance} "
            f"| {sum(s.input_rows for s in stages):,} | {sum(s.output_rows for s in stages):,} "
            f"| {sum(s.shuffle_write for s in stages) / MIB:.0f} | {plan} |"
        )
    return rows


def files_written(root: Path) -> list[str]:
    rows = ["| written under | Parquet files | MiB |", "|---|---:|---:|"]
    for zone in ("curated", "quarantine"):
        for table in sorted(p for p in (root / zone).glob("*") if p.is_dir()):
            parts = sorted(p for p in table.glob("*") if p.is_dir())
            for part in parts if table.name == "accepted" else [table]:
                files = list(part.rglob("*.parquet"))
                size = sum(f.stat().st_size for f in files) / MIB
                rows.append(f"| {part.relative_to(root)} | {len(files)} | {size:.1f} |")
    return rows


def report(profile: Profile, marks: dict, app_start: float, root: Path, scale: str) -> str:
    wall = marks["exited"] - marks["launched"]
    span = marks["build"] - marks["session"]
    lines = [
        f"# Spark stage of one `{scale}` night ({START}), profiled",
        "",
        f"Process wall {wall:.1f} s; from the session's start to the last write {span:.1f} s, "
        f"{len(profile.jobs)} jobs, at least one running for {profile.busy():.1f} s; "
        f"tasks ran {profile.total('run'):.1f} s on the cores "
        f"(CPU {profile.total('cpu'):.1f} s, collector {profile.total('gc'):.1f} s).",
        "",
        *phase_table(profile, marks, app_start),
        "",
        "The longest jobs:",
        "",
        *largest_jobs(profile),
        "",
        "What the night wrote:",
        "",
        *files_written(root),
    ]
    return "\n".join(lines) + "\n"


def profile_night(work: Path, scale: str, keep_log: Path | None) -> str:
    root = fresh_root(work, raw_data(work, scale, 1), f"profile-{scale}")
    with tempfile.TemporaryDirectory(prefix="spark-events-") as tmp:
        log_dir = keep_log or Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        marks = run_night(root, log_dir)
        events = read_event_log(log_dir)
    start = next(e for e in events if e["Event"] == "SparkListenerApplicationStart")
    app_start_ms = start["Timestamp"]
    profile = read_profile(events, app_start_ms)
    return report(profile, marks, app_start_ms / 1e3, root, scale)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="large")
    p.add_argument("--work", type=Path, default=Path("data/bench"))
    p.add_argument("--keep-log", type=Path, help="keep Spark's event log in this folder")
    p.add_argument("--night", nargs=2, metavar=("ROOT", "DATE"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.night:  # the child process of run_night
        print(json.dumps(night(Path(a.night[0]), a.night[1])))
        return 0
    print(profile_night(a.work.resolve(), a.scale, a.keep_log), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

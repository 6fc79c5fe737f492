"""Runs in the tests go the way every run goes: through the Dagster job
(orchestration/launch.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.launch import QUIET, add_nights, instance, launch
from spark_runtime.session import GC_OPTIONS


def night(root, first: dt.date, last: dt.date | None = None) -> list[dict]:
    """Ingests ``first … last`` (one date by default) as one Dagster run; raises what the run
    raised."""
    return launch(root, first, last or first)


def through_dagster_api(root, day: dt.date):
    """A run as the UI or the schedule launches it: the job, a partition, the instance;
    then the daemon's next tick of the sensor that writes the run log from Dagster's record.
    Returns Dagster's result (it does not raise)."""
    from orchestration import definitions as d

    job = d.build_definitions(root).resolve_job_def(d.JOB)
    with instance(root) as inst:
        add_nights(inst, day, day)  # as the landing sensor adds a night that lands
        result = job.execute_in_process(
            partition_key=str(day),
            instance=inst,
            raise_on_error=False,
            run_config=QUIET,
            resources={"fullsite": d.FullsiteResource(data_root=str(root))},
        )
        record_runs(root, inst)
        return result


def record_runs(root, inst) -> str:
    """One tick of ``run_record_sensor``, as the daemon evaluates it; its reason."""
    from orchestration import definitions as d

    with dg.build_sensor_context(
        instance=inst, resources={"fullsite": d.FullsiteResource(data_root=str(root))}
    ) as context:
        return d.run_record_sensor(context).skip_message


# A process the tests start runs one short run on tiny data in a cold JVM, where the
# optimizing JIT (C2) costs more CPU than it gives back (about a quarter of a tiny
# backfill's CPU, D38), CPU taken from the suite running beside it. The figures do not
# depend on the JIT tier; an operator's run keeps the default, which large nights need.
SHORT_RUN_JVM = f"{GC_OPTIONS} -XX:TieredStopAtLevel=1"


def start_cli(
    args: list[str], output=subprocess.DEVNULL, nice: int = 0, env: dict | None = None
) -> subprocess.Popen:
    """``fullsite <args>`` in a process (and process group) of its own, as an operator runs
    it (with the quick JIT above); ``nice`` lowers its priority (a run beside the tests takes only
    what they leave).
    The group stays in the tests' session: Linux schedules each session's processes as one
    group (autogroup), and a niceness only orders processes within their group."""
    env = {
        "FULLSITE_DRIVER_JAVA_OPTIONS": SHORT_RUN_JVM,
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        **(env or {}),
    }
    priority = ["nice", "-n", str(nice)] if nice else []
    return subprocess.Popen(
        [*priority, sys.executable, "-m", "orchestration.cli", *args],
        stdout=output,
        stderr=subprocess.STDOUT,
        process_group=0,
        env=env,
    )


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``fullsite <args>`` as an operator runs it, to the end: its exit code and output."""
    full = {
        "FULLSITE_DRIVER_JAVA_OPTIONS": SHORT_RUN_JVM,
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True, env=full
    )


def kill_mid_spark(root: Path, day: dt.date) -> None:
    """Start ``fullsite run`` for ``day`` and SIGKILL it while Spark writes the night's
    curated data (nothing is published yet: a crash, an OOM kill)."""
    proc = start_cli(["run", "--data-root", str(root), "--date", str(day)])
    deadline = time.time() + 120
    accepted = root / "curated" / "accepted" / "impressions" / f"business_date={day}"
    while time.time() < deadline and not accepted.exists() and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Reader:
    """An analyst's session holding the warehouse open, in a process of its own as an
    analyst's is (DuckDB shares one database per file within a process, so a reader in the
    run's own process would also be what the run reads after publishing). ``look()`` asks
    ``sql`` again on the same connection and returns its first row as JSON values."""

    CODE = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "for _ in sys.stdin:\n"
        "    print(json.dumps(con.execute(sys.argv[2]).fetchone(), default=str), flush=True)\n"
    )

    def __init__(self, warehouse: Path, sql: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(warehouse), sql],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def look(self) -> list:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


class Backfill:
    """``fullsite backfill`` of ``root`` over ``first … last``, run beside the tests in a
    process of its own: the suite keeps the two cores busy only part of the time (a test
    waits on the JVM, on a process it started, on files), and a long backfill fills those
    gaps. ``finished()`` waits for it, checks it published, and returns the root."""

    def __init__(
        self,
        root: Path,
        first: dt.date,
        last: dt.date,
        planted: dict | None = None,
        env: dict | None = None,
    ):
        # what was planted in the raw zone, for the checks
        self.root, self.planted = (
            root,
            planted or {},
        )
        self.log = root.parent / "backfill.log"
        self._out = open(self.log, "w")  # closed by finished() or stop()
        self.proc = start_cli(
            ["backfill", "--data-root", str(root), "--from", str(first), "--to", str(last)],
            self._out,
            nice=10,
            env=env,
        )

    def finished(self, timeout: float = 900) -> Path:
        code = self.proc.wait(timeout=timeout)
        self._out.close()
        output = self.log.read_text()
        assert code == 0 and "published " in output, output[-2000:]
        return self.root

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._out.close()


DAGSTER_SAYS = {
    "success": dg.DagsterRunStatus.SUCCESS,
    "failed": dg.DagsterRunStatus.FAILURE,
    "refused": dg.DagsterRunStatus.FAILURE,
    "interrupted": dg.DagsterRunStatus.FAILURE,
}


def one_record(root: Path, dagster_run_id: str) -> str:
    """What Dagster, `fullsite status` and the run log say of one Dagster run, asserted to be
    the same thing (issue 44); that thing (the run log's status of its last night)."""
    from typer.testing import CliRunner

    from orchestration import runlog
    from orchestration.cli import app

    shown = CliRunner().invoke(app, ["status", "--data-root", str(root), "--json"])
    assert shown.exit_code == 0, shown.output
    in_status = [
        r for r in json.loads(shown.output)["runs"] if r["dagster_run_id"] == dagster_run_id
    ]
    in_log = [r for r in runlog.read_all(root) if r["dagster_run_id"] == dagster_run_id]
    assert in_log and [r["status"] for r in in_status] == [r["status"] for r in in_log]
    said = in_log[-1]["status"]
    # every night of one run says the same (a failed run's other nights: "not published")
    assert {r["status"] for r in in_log} == {said}
    assert not runlog.open_rows(root), "every record of an ended run is closed"
    with instance(root) as inst:
        assert inst.get_run_by_id(dagster_run_id).status == DAGSTER_SAYS[said]
    return said

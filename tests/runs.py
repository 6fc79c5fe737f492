"""Runs in the tests go the way every run goes: through the Dagster job (orchestration/launch.py)."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.launch import QUIET, instance, launch


def night(root, first: dt.date, last: dt.date | None = None) -> list[dict]:
    """Ingests ``first … last`` (one date by default) as one Dagster run; raises what the run raised."""
    return launch(root, first, last or first)


def through_dagster_api(root, day: dt.date):
    """A run as the UI or the schedule launches it: the job, a partition, the instance;
    returns Dagster's result (it does not raise)."""
    from orchestration import definitions as d

    job = d.build_definitions(root).resolve_job_def(d.JOB)
    with instance(root) as inst:
        return job.execute_in_process(partition_key=str(day), instance=inst, raise_on_error=False, run_config=QUIET,
                                      resources={"fullsite": d.FullsiteResource(data_root=str(root))})


def start_cli(args: list[str], output=subprocess.DEVNULL) -> subprocess.Popen:
    """``fullsite <args>`` in a process (and process group) of its own, as an operator runs it."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args], stdout=output,
                            stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else output,
                            start_new_session=True, env=env)


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

    CODE = ("import duckdb, json, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "for _ in sys.stdin:\n"
            "    print(json.dumps(con.execute(sys.argv[2]).fetchone(), default=str), flush=True)\n")

    def __init__(self, warehouse: Path, sql: str):
        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE, str(warehouse), sql],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def look(self) -> list:
        import json

        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


class Beside:
    """A ``fullsite`` command run beside the tests, in a process of its own: the suite keeps
    the two cores busy only part of the time (a test waits on the JVM, on a process it
    started, on files), and the work of a long command fills those gaps. ``result()`` waits
    for it and returns its exit code and output."""

    def __init__(self, args: list[str], log: Path):
        self.log = log
        self._out = open(log, "w")  # noqa: SIM115 — closed by result()/stop()
        self.proc = start_cli(args, self._out)

    def result(self, timeout: float = 900) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        self._out.close()
        return code, self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._out.close()

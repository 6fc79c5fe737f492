"""One measured pipeline run in a fresh process, as a nightly ``fullsite run`` would be.

    python -m benchmarks.probe --data-root DIR --from D [--to D] [--master URL]

Prints one JSON line: wall time, the run log's stage timings, and the peak memory of the
whole process tree (this Python process, the Spark JVM, dbt's subprocess) while each stage
ran. Memory is the proportional set size (PSS): pages shared between processes (forked
workers) count once in the sum, where resident sizes would count them once per process.
A JVM keeps its heap once grown, so a stage's peak includes what an earlier stage left
resident: read the Spark stage's peak as the run's Spark footprint.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import psutil

from fullsite.layout import Layout

# The pipeline reports "<date>: <stage>" before each stage; benchmark stages group them.
STAGE_OF_PROGRESS = {
    "raw gate": "raw_gate",
    "Spark clean": "spark",
    "Spark facts": "spark",
    "curated gate": "curated_gate",
    "dbt build": "dbt",
    "marts gate": "marts_gate",
    "publish": "publish",
    "nightly brief": "brief",
}
# Run-log timings (seconds) summed into the same stages. The quarantine-share check runs
# inside the raw gate's timer, finalize (dropping staging schemas) inside publish.
STAGE_OF_TIMING = {
    "raw_gate": "raw_gate",
    "spark_clean": "spark",
    "spark_facts": "spark",
    "curated_gate": "curated_gate",
    "dbt": "dbt",
    "marts_gate": "marts_gate",
    "finalize": "publish",
    "publish": "publish",
    "brief": "brief",
}
STAGES = ["raw_gate", "spark", "curated_gate", "dbt", "marts_gate", "publish", "brief"]


def _pss(proc: psutil.Process) -> int:
    """PSS in bytes from /proc/<pid>/smaps_rollup: one short read, where the full smaps of a
    JVM (thousands of mappings) would cost the measured run real CPU."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return proc.memory_info().rss  # no smaps_rollup (not Linux ≥ 4.14): resident size


def tree_memory(proc: psutil.Process, measure=_pss) -> int:
    """PSS (or ``measure``) of ``proc`` and its descendants, in bytes."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += measure(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _rss(proc: psutil.Process) -> int:
    """Resident size from /proc/<pid>/statm: constant cost, however large the process."""
    return proc.memory_info().rss


PSS_STEP = 1.05
"""Reading a 4 GiB JVM's smaps_rollup walks its page tables: about 70 ms of kernel time on
the cores the measured run needs (every 0.5 s: some 8 CPU-seconds of a `large` night). So
the sampler watches the cheap resident size and reads PSS only when the tree's resident
size has grown 5 % past the last PSS reading, and at every stage start (about 20 readings
a night). A peak can be missed by at most that 5 %."""


class MemorySampler(threading.Thread):
    """Samples the process tree's memory every ``interval`` seconds, per current stage."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.stage, self.peaks = interval, "startup", {}
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._me = psutil.Process(os.getpid())
        self._rss_at_pss = 0

    def progress(self, message: str) -> None:
        self.stage = STAGE_OF_PROGRESS.get(message.split(": ", 1)[-1], self.stage)
        self.sample()  # every stage gets at least one sample, however short it is

    def sample(self, force: bool = True) -> None:
        stage, rss = self.stage, tree_memory(self._me, _rss)
        if not force and rss <= self._rss_at_pss * PSS_STEP:
            return
        used = tree_memory(self._me)
        with self._lock:
            self._rss_at_pss = rss
            self.peaks[stage] = max(self.peaks.get(stage, 0), used)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample(force=False)
            self._halt.wait(self.interval)

    def stop(self) -> dict:
        self._halt.set()
        self.join()
        return self.peaks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--from", dest="first", required=True, type=dt.date.fromisoformat)
    ap.add_argument("--to", dest="last", type=dt.date.fromisoformat)
    ap.add_argument("--master")
    args = ap.parse_args()

    t0 = time.monotonic()
    sampler = MemorySampler()
    sampler.start()
    # Imported after the clock and the sampler start: a nightly process pays for loading
    # Spark, the gates and dbt, so the probe counts it in the run's time and memory.
    from orchestration.pipeline import Pipeline  # noqa: PLC0415 (measured, see above)

    pipe = Pipeline(args.data_root, master=args.master, progress=sampler.progress)
    try:
        records = pipe.run_range(args.first, args.last or args.first)
    finally:
        pipe.close()
    for rec in records:  # no Dagster run says how it ended (orchestration/outcome.py): it did
        rec.status = "success"
        rec.write(Path(args.data_root))
    # The brief is drawn after publication (its own Dagster asset, D40), not by the run:
    # the night an operator waits for includes it, so the probe draws it as the asset does.
    sampler.progress("nightly brief")
    t_brief = time.monotonic()
    from publications.brief import write_brief  # noqa: PLC0415 (measured, as the Pipeline)

    write_brief(Layout(args.data_root))
    brief_s = time.monotonic() - t_brief
    wall = time.monotonic() - t0
    peaks = sampler.stop()
    seconds, detail = dict.fromkeys(STAGES, 0.0), {}
    for rec in records:
        for name, value in rec.timings.items():
            seconds[STAGE_OF_TIMING[name]] += value
            detail[name] = detail.get(name, 0.0) + value
    seconds["brief"] += brief_s
    print(
        json.dumps(
            {
                "wall": wall,
                "seconds": seconds,
                "detail": detail,
                "peak_memory": {s: peaks.get(s, 0) for s in STAGES},
                "peak_memory_total": max(peaks.values()),
            }
        )
    )


if __name__ == "__main__":
    main()

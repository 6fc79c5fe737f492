"""`make bench`: what a night costs, measured on generated data, written to BENCHMARKS.md.

    python -m benchmarks.run [--work data/bench] [--repeats 3]
                             [--only nightly,history,backfill,range,publish]

* nightly:  one `small`, `medium`, `large` and `xlarge` night, stage by stage with peak
            memory; after each run, the DuckDB yardstick (benchmarks/duckdb_facts.py) on
            the same raw Parquet, so the two engines alternate in the same process order.
* history:  the nightly run of night 5, 30 and 366 of one `small` data root.
* backfill: the 30-day `small` demo backfilled from an empty data root (one Spark pass
            cleans every ingest, decision D31).
* range:    a 10-night `small` backfill against one night, each on a fresh data root
            (issue 46: a backfill is one pass; its fixed costs are paid once).
* publish:  the publish path of a synthetic warehouse of about 100 MiB and about 10 GiB
            (issue 46: a night's cost must not grow with what is published).

Every measured run is a fresh process (``benchmarks.probe``), as a nightly run is. Each
figure is the median of ``--repeats`` runs: repeats of a night re-run the same (last)
date, which the pipeline allows and which does the same work. Targets are goals to read
next to the figures, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks import machine
from benchmarks.duckdb_facts import compare
from benchmarks.probe import STAGES
from benchmarks.report import write_report
from fullsite.generator.run import generate
from fullsite.generator.scales import SCALES as GENERATED
from fullsite.layout import Layout

REPO = Path(__file__).resolve().parents[1]
START = dt.date(2024, 7, 5)  # the demo's first day
SEED = 7
SCALES = ("small", "medium", "large", "xlarge")


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def _python(*args: str) -> dict:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "FULLSITE_SPARK_LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(
            f"benchmark step failed: python -m {' '.join(args)}\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def raw_data(work: Path, scale: str, days: int) -> Path:
    """Generated raw zone, made once per (scale, days) and reused by later bench runs."""
    raw = work / f"raw-{scale}-{days}d"
    if not (raw / ".complete").exists():
        shutil.rmtree(raw, ignore_errors=True)
        log(f"generating {days} day(s) of {scale} data")
        generate(raw, START, days, scale, seed=SEED)
        (raw / ".complete").touch()
    return raw


def fresh_root(work: Path, raw: Path, name: str) -> Path:
    """An empty data root over the generated raw zone (symlinked: it is only read)."""
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "raw").symlink_to((raw / "raw").resolve())
    return root


def run_pipeline(root: Path, first: dt.date, last: dt.date | None = None) -> dict:
    args = ["benchmarks.probe", "--data-root", str(root), "--from", str(first)]
    return _python(*args, "--to", str(last)) if last else _python(*args)


def median(values: list[float]) -> float:
    return statistics.median(values)


def stage_medians(runs: list[dict]) -> dict:
    """Median seconds per stage of probe results, and of the Spark stage's two halves."""
    return {
        "seconds": {s: median([r["seconds"][s] for r in runs]) for s in STAGES},
        "spark_clean": median([r["detail"].get("spark_clean", 0.0) for r in runs]),
        "spark_facts": median([r["detail"].get("spark_facts", 0.0) for r in runs]),
    }


# -- sections ----------------------------------------------------------------------------
def bench_nightly(work: Path, repeats: int, scale: str) -> dict:
    raw = raw_data(work, scale, 1)
    root = fresh_root(work, raw, f"nightly-{scale}")
    out = root / "duckdb_facts"
    runs, duck = [], []
    for k in range(repeats):
        log(f"{scale} night {START}, run {k + 1}/{repeats}: pipeline")
        runs.append(run_pipeline(root, START))
        log(f"{scale} night {START}, run {k + 1}/{repeats}: DuckDB yardstick")
        duck.append(
            _python(
                "benchmarks.duckdb_facts",
                "--data-root",
                str(root),
                "--date",
                str(START),
                "--out",
                str(out),
            )
        )
    differing = compare(root, START, out)
    spark = median([r["seconds"]["spark"] for r in runs])
    duckdb_s = median([d["seconds"] for d in duck])
    return {
        "scale": scale,
        "repeats": repeats,
        "events": GENERATED[scale].events_per_day,
        "wall": median([r["wall"] for r in runs]),
        **stage_medians(runs),
        "peak_memory": {s: max(r["peak_memory"][s] for r in runs) for s in STAGES},
        "peak_memory_total": max(r["peak_memory_total"] for r in runs),
        "duckdb_seconds": duckdb_s,
        "duckdb_peak_memory": max(d["peak_memory"] for d in duck),
        "duckdb_rows": duck[0]["rows"],
        "duckdb_differing_rows": differing,
        "duckdb_ratio": spark / duckdb_s,
    }


# issue 46 (issue 39 had half a year): a night after a year of history against one after five
HISTORY_NIGHTS = 365


def bench_history(work: Path, repeats: int) -> dict:
    """Nights 5, 30 and 366 of one `small` data root: does a night's cost grow with history?
    The nights between are backfilled in runs of 30 (a month at a time, as an operator
    would catch up), which is not measured."""
    raw = raw_data(work, "small", HISTORY_NIGHTS + 1)
    root = fresh_root(work, raw, "history-small")
    day = lambda n: START + dt.timedelta(days=n - 1)  # noqa: E731

    def night(n: int) -> list[dict]:
        """Night n, ``repeats`` times (re-runs of the last date)."""
        return [run_pipeline(root, day(n)) for _ in range(repeats)]

    def backfill(first: int, last: int) -> None:
        for a in range(first, last + 1, 30):
            b = min(last, a + 29)
            log(f"history: backfilling nights {a}-{b}")
            run_pipeline(root, day(a), day(b))

    backfill(1, 4)
    log(f"history: night 5, {repeats} runs")
    day5 = night(5)
    backfill(6, 29)
    log(f"history: night 30, {repeats} runs")
    day30 = night(30)
    backfill(31, HISTORY_NIGHTS)
    log(f"history: night {HISTORY_NIGHTS + 1}, {repeats} runs")
    late = night(HISTORY_NIGHTS + 1)
    w5, w30, wl = (median([r["wall"] for r in rs]) for rs in (day5, day30, late))
    s5, s30, sl = (median([r["seconds"]["spark"] for r in rs]) for rs in (day5, day30, late))
    return {
        "repeats": repeats,
        "day5_wall": w5,
        "day30_wall": w30,
        "history_ratio": w30 / w5,
        "day5_spark": s5,
        "day30_spark": s30,
        "spark_ratio": s30 / s5,
        "day5_seconds": stage_medians(day5)["seconds"],
        "day30_seconds": stage_medians(day30)["seconds"],
        "late_night": HISTORY_NIGHTS + 1,
        "late_wall": wl,
        "late_ratio": wl / w5,
        "late_spark": sl,
        "late_spark_ratio": sl / s5,
        "late_seconds": stage_medians(late)["seconds"],
        "state_bytes": _state_bytes(root),
    }


def _state_bytes(root: Path) -> dict:
    """What the data root keeps beside the warehouse after the history, by folder (bytes)."""
    layout = Layout(root)
    out = {}
    for name, path in (
        ("curated", layout.root / "curated"),
        ("state", layout.root / "state"),
        ("dq", layout.root / "dq"),
        ("dagster", layout.root / "dagster"),
        ("warehouse", layout.warehouse),
    ):
        files = (
            [path]
            if path.is_file()
            else [p for p in path.rglob("*") if p.is_file()]
            if path.exists()
            else []
        )
        out[name] = sum(p.stat().st_size for p in files)
    return out


def bench_backfill(work: Path, repeats: int) -> dict:
    raw = raw_data(work, "small", 30)
    runs = []
    for k in range(repeats):
        log(f"backfill: 30 small days, run {k + 1}/{repeats}")
        root = fresh_root(work, raw, "backfill-small")
        runs.append(run_pipeline(root, START, START + dt.timedelta(days=29)))
    return {
        "repeats": repeats,
        "wall": median([r["wall"] for r in runs]),
        **stage_medians(runs),
        "peak_memory_total": max(r["peak_memory_total"] for r in runs),
        "backfill_minutes": median([r["wall"] for r in runs]) / 60,
    }


RANGE_NIGHTS = 10  # issue 46: a backfill stays one pass, not ten nights' worth of fixed costs


def bench_range(work: Path, repeats: int) -> dict:
    """A 10-night `small` backfill against one night, each on a fresh data root: what a
    range costs beyond its data (Dagster's run, the JVM, the gates' imports) is paid once."""
    raw = raw_data(work, "small", RANGE_NIGHTS)
    last = START + dt.timedelta(days=RANGE_NIGHTS - 1)
    nights, ranges = [], []
    for k in range(repeats):
        log(f"range: one small night on a fresh root, run {k + 1}/{repeats}")
        nights.append(run_pipeline(fresh_root(work, raw, "range-night"), START))
        log(f"range: {RANGE_NIGHTS} small nights on a fresh root, run {k + 1}/{repeats}")
        ranges.append(run_pipeline(fresh_root(work, raw, "range-backfill"), START, last))
    night, backfill = median([r["wall"] for r in nights]), median([r["wall"] for r in ranges])
    return {
        "repeats": repeats,
        "nights": RANGE_NIGHTS,
        "night_wall": night,
        "range_wall": backfill,
        "range_ratio": backfill / night,
    }


# issue 46: what publishing costs against the size of what is published
PUBLISH_SIZES = {"100 MiB": 100 << 20, "10 GiB": 10 << 30}


def bench_publish(work: Path, repeats: int) -> dict:
    """The publish path (staging started, build record and fingerprint, publication) of a
    synthetic warehouse of about 100 MiB and about 10 GiB (benchmarks/publish.py), made once
    each; each run is the night after the last."""
    sizes = {}
    for name, size in PUBLISH_SIZES.items():
        root = work / f"publish-{size >> 20}MiB"
        log(f"publish: a {name} warehouse, {repeats} runs")
        args = ("benchmarks.publish", "--data-root", str(root), "--bytes", str(size))
        runs = [_python(*args) for _ in range(repeats)]
        sizes[name] = {
            "bytes": runs[-1]["bytes"],
            "total": median([r["total"] for r in runs]),
            **{step: median([r["seconds"][step] for r in runs]) for step in runs[0]["seconds"]},
        }
    small, big = (sizes[name] for name in PUBLISH_SIZES)
    return {"repeats": repeats, "sizes": sizes, "publish_ratio": big["total"] / small["total"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "data" / "bench")
    ap.add_argument("--repeats", type=int, default=3, help="runs per nightly figure (median)")
    ap.add_argument(
        "--xlarge-repeats", type=int, default=1, help="runs of the xlarge night (about 4 min each)"
    )
    ap.add_argument("--backfill-repeats", type=int, default=1, help="30-day backfills (median)")
    ap.add_argument("--only", default="nightly,history,backfill,range,publish")
    ap.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results_file = args.work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    sections = set(args.only.split(","))
    measured = results.setdefault("measured", {})
    for section in ("nightly", "history", "backfill", "range", "publish"):
        if section in sections:  # when, next to the figures (report._when)
            measured[section] = f"{dt.datetime.now():%Y-%m-%d %H:%M}"
    if "nightly" in sections:
        results["nightly"] = [
            bench_nightly(
                args.work, args.xlarge_repeats if scale == "xlarge" else args.repeats, scale
            )
            for scale in SCALES
        ]
    if "history" in sections:
        results["history"] = bench_history(args.work, args.repeats)
    if "backfill" in sections:
        results["backfill"] = bench_backfill(args.work, args.backfill_repeats)
    if "range" in sections:
        results["range"] = bench_range(args.work, args.repeats)
    if "publish" in sections:
        results["publish"] = bench_publish(args.work, args.repeats)
    results["machine"] = machine.describe()
    results["date"] = dt.date.today().isoformat()
    results_file.write_text(json.dumps(results, indent=2))
    write_report(results, args.output)
    log(f"figures written to {args.output}")


if __name__ == "__main__":
    main()

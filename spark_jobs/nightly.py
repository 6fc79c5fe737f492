"""Entry point of the Spark stage for one ingest date (or a range, one date after another).

    python -m spark_jobs.nightly --data-root DIR --date YYYY-MM-DD [--to YYYY-MM-DD] [--master URL]
    spark-submit --master spark://host:7077 spark_jobs/nightly.py --data-root DIR --date …

One session serves the whole range. Each date: clean + quarantine the raw partitions,
attribute, rebuild the daily and segment facts and the lifecycle of ``D-2 … D``, and
record the reconciliation counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

if __package__ in (None, ""):  # launched as a file by spark-submit
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fullsite.layout import Layout  # noqa: E402
from spark_jobs.clean import CleanResult, clean_all  # noqa: E402
from spark_jobs.facts import build_facts, recomputed_dates  # noqa: E402
from spark_jobs.io import concurrently, swap_in, write_partitions  # noqa: E402
from spark_jobs.lifecycle import run_lifecycle  # noqa: E402
from spark_runtime.session import get_spark  # noqa: E402


def _write_small(table: pa.Table, folder: Path) -> None:
    """Driver-side write of a tiny table into its own partition folder, atomically."""
    tmp = folder.with_name(folder.name + ".new")
    tmp.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, tmp / "part-0000.parquet")
    swap_in(tmp, folder)


def write_reconciliation(layout: Layout, D: dt.date, results: list[CleanResult]) -> None:
    """dq counts of ingest date D (the date is the partition folder, as for Spark output)."""
    recon = pa.table(
        {
            "table_name": pa.array([r.table for r in results], pa.string()),
            "rows_in": pa.array([r.rows_in for r in results], pa.int64()),
            "accepted": pa.array([r.accepted for r in results], pa.int64()),
            "duplicates": pa.array([r.duplicates for r in results], pa.int64()),
            "quarantined": pa.array([r.quarantined for r in results], pa.int64()),
        }
    )
    rows = [
        (r.table, reason, n)
        for r in results
        for reason, n in sorted(r.quarantined_by_reason.items())
    ]
    summary = pa.table(
        {
            "table_name": pa.array([x[0] for x in rows], pa.string()),
            "reason": pa.array([x[1] for x in rows], pa.string()),
            "rows": pa.array([x[2] for x in rows], pa.int64()),
        }
    )
    _write_small(recon, layout.curated_table("dq_ingest_reconciliation") / f"ingest_date={D}")
    _write_small(summary, layout.curated_table("dq_quarantine_summary") / f"ingest_date={D}")


def clean_date(spark, layout: Layout, D: dt.date) -> list[CleanResult]:
    """Step 1 of a night: classify every raw row of D and record the counts."""
    return clean_dates(spark, layout, [D])[D]


def clean_dates(spark, layout: Layout, ingests: list[dt.date]) -> dict[dt.date, list[CleanResult]]:
    """Step 1 of a backfill: classify every raw row of the ingests in one pass (the same
    outcome as one ingest after the other) and record the counts of each."""
    results = clean_all(spark, layout, ingests)
    for D, found in results.items():
        write_reconciliation(layout, D, found)
    return results


def build_date(spark, layout: Layout, D: dt.date, first: dt.date | None = None) -> None:
    """Step 2: attribution, daily and segment facts, lifecycle of D-2 … D — or, once the
    ingests ``first … D`` are all cleaned, of ``first - 2 … D`` in one pass."""
    days = recomputed_dates(D, first)
    facts, cached = build_facts(spark, layout, days, D, first)
    try:
        # Side by side, as the cleaning's tables are: each fact is a few small jobs whose
        # planning and code generation leave the cores idle between them (D51).
        concurrently(
            [
                partial(write_partitions, df, layout.curated_table(name), "business_date", days)
                for name, df in facts.items()
            ]
        )
    finally:
        for df in cached:
            df.unpersist()
    run_lifecycle(spark, layout, days, D)


def run_date(spark, layout: Layout, D: dt.date) -> dict:
    timings = {}
    t0 = time.monotonic()
    results = clean_date(spark, layout, D)
    timings["clean"] = time.monotonic() - t0
    t0 = time.monotonic()
    build_date(spark, layout, D)
    timings["build"] = time.monotonic() - t0
    return {
        "date": D.isoformat(),
        "timings": timings,
        "reconciliation": {
            r.table: [r.rows_in, r.accepted, r.duplicates, r.quarantined] for r in results
        },
    }


def run_range(
    data_root: str | Path,
    start: dt.date,
    end: dt.date,
    master: str | None = None,
    spark=None,
    on_date=None,
) -> list[dict]:
    layout = Layout(Path(data_root))
    own = spark is None
    spark = spark or get_spark(master)
    try:
        out = []
        d = start
        while d <= end:
            out.append(run_date(spark, layout, d))
            if on_date:
                on_date(d)
            d += dt.timedelta(days=1)
        return out
    finally:
        if own:
            spark.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True)
    p.add_argument("--date", required=True, type=dt.date.fromisoformat)
    p.add_argument("--to", type=dt.date.fromisoformat)
    p.add_argument("--master")
    a = p.parse_args(argv)
    out = run_range(a.data_root, a.date, a.to or a.date, a.master)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench-cluster`: a `medium` night through the whole pipeline on a Spark standalone
cluster (a master and two workers on 127.0.0.1), compared with local mode.

    python -m benchmarks.cluster [--work data/bench] [--scale medium]

Both runs read the same generated raw zone; every published table except the run log
(run ids and times) must be equal row for row. The cluster is stopped on the way out, also
when something fails. Exit status 0 only when the figures are equal. The timings replace
the cluster section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import duckdb

from benchmarks.report import write_cluster_section
from benchmarks.run import REPO, START, _python, fresh_root, log, raw_data
from fullsite.tablediff import differing_rows
from spark_runtime.standalone import ClusterDidNotStart, standalone_cluster

WORKERS, CORES_PER_WORKER, WORKER_MEMORY, EXECUTOR_MEMORY = 2, 1, "4g", "3g"


def published_differences(a: Path, b: Path) -> dict[str, int]:
    """Rows that differ, per published table."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a / 'warehouse.duckdb'}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b / 'warehouse.duckdb'}' AS b (READ_ONLY)")
    tables = con.execute("""select table_schema, table_name from information_schema.tables
                            where table_catalog = 'a' and table_type = 'BASE TABLE'
                            and table_schema in ('marts', 'finance', 'dq') order by
                                all""").fetchall()
    out = {}
    for schema, name in tables:
        x, y = f"a.{schema}.{name}", f"b.{schema}.{name}"
        out[f"{schema}.{name}"] = differing_rows(con, f"from {x}", f"from {y}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "data" / "bench")
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    args = ap.parse_args()
    raw = raw_data(args.work, args.scale, 1)
    local = fresh_root(args.work, raw, "cluster-local")
    remote = fresh_root(args.work, raw, "cluster-remote")
    log(f"{args.scale} night {START} in local mode")
    local_run = _python("benchmarks.probe", "--data-root", str(local), "--from", str(START))
    try:
        remote_run = _on_a_cluster(args.work / "cluster", remote)
    except ClusterDidNotStart as exc:
        print(f"bench-cluster: {exc}", file=sys.stderr)
        return 1
    log("cluster stopped; comparing the published warehouses")
    diffs = published_differences(local, remote)
    section = _section(args.scale, local_run, remote_run, diffs)
    write_cluster_section(section, args.output)
    print(section)
    if any(diffs.values()) or not diffs:
        print("bench-cluster: the cluster's figures differ from local mode", file=sys.stderr)
        return 1
    return 0


def _on_a_cluster(work: Path, root: Path) -> dict:
    """The same night on a standalone cluster, stopped on the way out."""
    with standalone_cluster(
        work, workers=WORKERS, cores=CORES_PER_WORKER, memory=WORKER_MEMORY
    ) as (url, _env):
        log(f"cluster up at {url}; the same night against it")
        os.environ["FULLSITE_EXECUTOR_MEMORY"] = EXECUTOR_MEMORY
        return _python(
            "benchmarks.probe", "--data-root", str(root), "--from", str(START), "--master", url
        )


def _section(scale: str, local_run: dict, remote_run: dict, diffs: dict[str, int]) -> str:
    bad = {t: n for t, n in diffs.items() if n}
    compared = (
        "all equal, row for row."
        if not bad
        else f"**{len(bad)} differ**: " + ", ".join(f"{t} ({n})" for t, n in bad.items())
    )
    spark = (local_run["seconds"]["spark"], remote_run["seconds"]["spark"])
    return "\n".join(
        [
            f"## The same night on a standalone cluster ({dt.date.today()})",
            "",
            f"`make bench-cluster`: a master and {WORKERS} workers ({CORES_PER_WORKER} core, "
            f"{WORKER_MEMORY} each; executors {EXECUTOR_MEMORY}) on 127.0.0.1, one `{scale}` "
            "night through the whole pipeline.",
            "",
            "| | local[2] | standalone cluster |",
            "|---|---:|---:|",
            f"| Spark stage | {spark[0]:,.1f} s | {spark[1]:,.1f} s |",
            f"| whole run | {local_run['wall']:,.1f} s | {remote_run['wall']:,.1f} s |",
            "",
            f"Published tables compared: {len(diffs)}; {compared}",
            "On one 2-core machine the cluster adds executor start-up and task shipping; the "
            "point is",
            "that the same code runs unchanged against a cluster and publishes the same figures.",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the dbt project on Spark (dbt-spark, ``session`` method) and export the published
models as Parquet, for the portability test.

    python tests/dbt/spark_build.py DATA_ROOT RUN_DATE OUT_DIR

Run it in a scratch working folder: Spark's in-memory catalog keeps its tables under
``./spark-warehouse``. The session is ours (UTC, ANSI), created before dbt asks for one, so
dbt-spark's ``getOrCreate`` picks it up. dbt writes its artifacts under OUT_DIR, never
into the project's ``target/`` (Dagster reads the manifest there).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PUBLISHED_SCHEMAS = ("marts", "finance", "dq")


def main(data_root: str, run_date: str, out: str) -> int:
    from dbt.cli.main import dbtRunner

    from spark_runtime.session import get_spark

    out_dir = Path(out).resolve()
    os.environ["FULLSITE_DATA_ROOT"] = str(Path(data_root).resolve())
    spark = get_spark(app_name="fullsite-dbt-on-spark")
    project = REPO / "dbt_project"
    common = [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target",
        "spark",
        "--target-path",
        str(out_dir / "target"),
        "--log-path",
        str(out_dir / "logs"),
        "--vars",
        json.dumps({"run_date": run_date}),
    ]
    runner = dbtRunner()
    for command in (["seed"], ["run"]):
        result = runner.invoke([*command, *common])
        if not result.success:
            failures = [
                f"{r.node.unique_id}: {r.message}"
                for r in (result.result or [])
                if r.status in ("error", "fail")
            ]
            print(
                f"dbt {command[0]} on Spark failed: {failures or result.exception}", file=sys.stderr
            )
            return 1
    for schema in PUBLISHED_SCHEMAS:
        for table in spark.catalog.listTables(schema):
            if table.tableType != "VIEW":
                spark.table(f"{schema}.{table.name}").write.parquet(
                    str(out_dir / "tables" / f"{schema}.{table.name}")
                )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))

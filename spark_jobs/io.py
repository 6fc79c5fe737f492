"""Reading contract files and rewriting curated partitions atomically.

A partition is rewritten by writing a complete new copy next to it and swapping the
directories. A job killed mid-way leaves either the old or the new copy in place (plus,
at worst, a ``.old`` directory that ``recover`` puts back or removes on the next start).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from fullsite.contract import SCHEMAS
from fullsite.quoting import hadoop_path

T_ = TypeVar("T_")

_ARROW_TO_SPARK = {
    pa.string(): T.StringType(),
    pa.bool_(): T.BooleanType(),
    pa.int32(): T.IntegerType(),
    pa.int64(): T.LongType(),
    pa.date32(): T.DateType(),
}


def spark_type(arrow_type: pa.DataType) -> T.DataType:
    if pa.types.is_timestamp(arrow_type):
        return T.TimestampType()
    if pa.types.is_decimal(arrow_type):
        return T.DecimalType(arrow_type.precision, arrow_type.scale)
    return _ARROW_TO_SPARK[arrow_type]


def contract_schema(table: str) -> T.StructType:
    return T.StructType([T.StructField(f.name, spark_type(f.type), True) for f in SCHEMAS[table]])


def has_parquet(path: Path) -> bool:
    return path.is_dir() and any(path.rglob("*.parquet"))


def read_parquet(
    spark: SparkSession, paths: list[Path], schema: T.StructType, base: Path | None = None
) -> DataFrame:
    """Read the given files, and folders that hold data, with a fixed schema; empty if none.
    Raw partitions are passed as their data files (``Layout.raw_files``), so Spark reads
    exactly what the gates count.

    Listing explicit folders, never a whole table, keeps the cost of a night independent
    of how much history the table holds.
    """
    # literal: Spark reads globs
    present = [hadoop_path(p) for p in paths if p.is_file() or has_parquet(p)]
    if not present:
        return spark.createDataFrame([], schema)
    reader = spark.read.schema(schema)
    if base is not None:
        reader = reader.option("basePath", str(base))
    return reader.parquet(*present)


def day_dirs(base: Path, column: str, days) -> list[Path]:
    return [base / f"{column}={d.isoformat()}" for d in days]


def recover(base: Path) -> None:
    """Undo the traces of a swap that a killed job left behind under ``base``."""
    if not base.exists():
        return
    # Swaps happen at most two levels below a table (business_date=…/ingest_date=…).
    for old in list(base.glob("*.old")) + list(base.glob("*/*.old")):
        live = old.with_name(old.name[: -len(".old")])
        if live.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(old, live)
    for tmp in list(base.glob(".tmp-*")):
        shutil.rmtree(tmp, ignore_errors=True)


def swap_in(new: Path | None, live: Path) -> None:
    """Make ``new`` the content of ``live`` (``None``: the partition becomes empty)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    old = live.with_name(live.name + ".old")
    if live.exists():
        os.rename(live, old)
    if new is not None and new.exists():
        os.rename(new, live)
    shutil.rmtree(old, ignore_errors=True)


def write_partitions(
    df: DataFrame, base: Path, column: str, days: list[dt.date], leaf: str | None = None
) -> None:
    """Rewrite partitions ``base/column=<day>[/leaf]`` for every day in ``days``.

    ``df`` must hold a ``column`` (DATE) and only rows of those days. Days without rows end
    up empty, so a rewrite also removes what no longer belongs there.
    """
    base.mkdir(parents=True, exist_ok=True)
    recover(base)
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    try:
        df.write.mode("overwrite").partitionBy(column).parquet(str(tmp))
        swap_partitions(tmp, base, column, days, leaf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def swap_partitions(
    written: Path, base: Path, column: str, days: list[dt.date], leaf: str | None = None
) -> None:
    """Swap the folders ``written/column=<day>`` into ``base`` (see ``write_partitions``)."""
    for d in days:
        part = f"{column}={d.isoformat()}"
        live = base / part / leaf if leaf else base / part
        swap_in(written / part, live)


def parquet_rows(folder: Path) -> int:
    """Rows in the Parquet files under ``folder``, from their footers (no data read)."""
    return footer_rows(folder.rglob("*.parquet"))


def footer_rows(files) -> int:
    """Rows in these Parquet files, from their footers (no data read)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def concurrently(jobs: list[Callable[[], T_]]) -> list[T_]:
    """Run independent Spark actions from threads of this driver (one session schedules
    them together), and return their results in order; the first failure is raised once
    every job has ended, so none is left writing behind the caller's back."""
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        futures = [pool.submit(job) for job in jobs]
        wait(futures)
    return [f.result() for f in futures]

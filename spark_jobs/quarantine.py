"""The quarantine store: rejected raw rows exactly as they arrived, with their reason, one
folder per table and ingest (operators only; never in the warehouse)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.contract import SCHEMAS
from fullsite.layout import Layout
from spark_jobs.io import recover, swap_in


def readable_text(rows: pa.Table) -> pa.Table:
    """The quarantine store stays readable by every tool (DuckDB refuses a file with one
    invalid UTF-8 string): bytes that are not UTF-8 are kept as ``\\xNN`` escapes, every
    other value unchanged (decision D22)."""
    for i, field in enumerate(rows.schema):
        if field.type != pa.string():
            continue
        column = rows.column(i)
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        raw = column.combine_chunks().view(pa.binary())
        fixed = pa.array(
            [None if v is None else v.decode("utf-8", "backslashreplace") for v in raw.to_pylist()],
            pa.string(),
        )
        rows = rows.set_column(i, field, fixed)
    return rows


def store_quarantine(layout: Layout, table: str, D: dt.date, folders: dict[str, Path]) -> None:
    """The quarantined rows of ``table`` exactly as they arrived (its contract columns) with
    their reason, into ``quarantine/<table>/ingest_date=D`` (empty when there are none),
    swapped in whole. A file-by-file copy of rows Spark has already classified and written:
    no Spark job (and no plan to compile) per table, and memory holds one file at a time."""
    cols = SCHEMAS[table].names
    live = layout.quarantine(table) / f"ingest_date={D.isoformat()}"
    live.parent.mkdir(parents=True, exist_ok=True)
    recover(live.parent)
    new = live.parent / f".tmp-{uuid.uuid4().hex}"
    new.mkdir()
    writer = None
    try:
        for reason, folder in sorted(folders.items()):
            for f in sorted(folder.rglob("*.parquet")):
                rows = readable_text(pq.ParquetFile(f).read(columns=cols))
                rows = rows.append_column("reason", pa.array([reason] * rows.num_rows, pa.string()))
                writer = writer or pq.ParquetWriter(new / "part-00000.parquet", rows.schema)
                writer.write_table(rows)
    finally:
        if writer is not None:
            writer.close()
    swap_in(new, live)

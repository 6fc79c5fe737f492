"""What the period-close tests change under a warehouse (issue 43): a corrected rule in a copy
of the dbt project, and raw history rewritten after its night was processed."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fullsite.rules import REPO_ROOT

RATE_FILE = "seeds/rebate_rates.csv"
# The SME brackets at 10 k and 30 k, corrected retroactively (effective 2000-01-01).
CORRECTED = {
    "sme,2000-01-01,30000.00,0.025": "sme,2000-01-01,30000.00,0.020",
    "sme,2000-01-01,10000.00,0.015": "sme,2000-01-01,10000.00,0.010",
}
RESTATED_INGEST = dt.date(2024, 7, 30)  # its clicks are rewritten: July's spend changes


def corrected_project(folder: Path) -> Path:
    """A copy of the dbt project with the SME rates corrected; returns its folder."""
    source = REPO_ROOT / "dbt_project"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    rates = folder / RATE_FILE
    text = rates.read_text()
    for old, new in CORRECTED.items():
        assert old in text, old
        text = text.replace(old, new)
    rates.write_text(text)
    return folder


def rewrite_clicks(root: Path, day: dt.date = RESTATED_INGEST) -> tuple[Path, int]:
    """Upstream re-sends a clicks file of an ingested night with every cost doubled (a
    billing correction): the file and its rows."""
    path = sorted((root / "raw" / "clicks" / f"dt={day}").glob("part-*.parquet"))[0]
    table = pq.read_table(path)
    column = table.schema.get_field_index("cost")
    doubled = pc.multiply(table["cost"], pa.scalar(Decimal(2), pa.decimal128(1, 0))).cast(
        pa.decimal128(18, 2)
    )
    pq.write_table(table.set_column(column, table.schema.field("cost"), doubled), path)
    return path, table.num_rows


def rewrite_saves(root: Path, day: dt.date) -> Path:
    """A saves file of a night rewritten with its first half only."""
    path = sorted((root / "raw" / "saves" / f"dt={day}").glob("part-*.parquet"))[0]
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows // 2), path)
    return path

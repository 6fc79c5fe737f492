"""The register of what finance was issued (issue 37): one row per statement issued, in
``<data-root>/reports/register.parquet`` (published as the view finance.statement_register),
and the answer to "is this file one we issued, and from which build?"."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.layout import Layout
from fullsite.published import ensure_register, register_schema


def append(layout: Layout, row: dict) -> None:
    """One statement issued: appended (the file is rewritten whole, then swapped in)."""
    path = layout.statement_register
    ensure_register(path)
    table = pq.read_table(path, schema=register_schema())
    table = pa.concat_tables([table, pa.Table.from_pylist([row], schema=register_schema())])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def issued(layout: Layout) -> list[dict]:
    path = layout.statement_register
    return pq.read_table(path, schema=register_schema()).to_pylist() if path.exists() else []


@dataclass(frozen=True)
class Verdict:
    file: Path
    issue: dict | None   # the register row whose files include this one's bytes
    name: str | None     # the name it was issued under

    def said(self) -> str:
        if self.issue is None:
            return f"{self.file}: NOT a statement issued from this data root (no issued file has its SHA-256)"
        r = self.issue
        kind = "PROVISIONAL " if r["provisional"] else ""
        return (f"{self.file}: issued as {self.name} — {kind}{r['statement']} {r['period']}, "
                f"{r['issued_at']:%Y-%m-%d %H:%M} UTC, from warehouse build {r['warehouse_fingerprint'][:12]} "
                f"(data through {r['data_through']})")


def verify(layout: Layout, files: list[Path]) -> list[Verdict]:
    """Each file against every file the register lists, by its bytes' SHA-256."""
    by_hash: dict[str, tuple[dict, str]] = {}
    for row in issued(layout):
        for name, digest in json.loads(row["files"]).items():
            by_hash.setdefault(digest, (row, name))  # the first issue of these bytes
    out = []
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        found = by_hash.get(digest)
        out.append(Verdict(f, found[0], found[1]) if found else Verdict(f, None, None))
    return out


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

"""The register of what finance was issued (issues 37, 43): the answer to "is this file one
we issued, and from which build?", and to "has anyone changed the register since?".

The register lives in the finance ledger (fullsite/ledger.py): one chained row per issue,
published as the view finance.statement_register. A file is recognised by its bytes'
SHA-256 — a statement's CSV or XLSX, or its manifest — and only once the chain holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fullsite import ledger
from fullsite.layout import Layout


def issued(layout: Layout) -> list[dict]:
    """Every register row, in order."""
    return ledger.entries(layout)


@dataclass(frozen=True)
class Verdict:
    file: Path
    issue: dict | None  # the register row whose files include this one's bytes
    name: str | None  # the name it was issued under

    def said(self) -> str:
        if self.issue is None:
            return (
                f"{self.file}: NOT a statement issued from this data root "
                "(no issued file has its SHA-256)"
            )
        r = self.issue
        kind = "PROVISIONAL " if r["provisional"] else ""
        return (
            f"{self.file}: issued as {self.name} — {kind}{r['statement']} {r['period']}, "
            f"{r['issued_at']:%Y-%m-%d %H:%M} UTC, register row {r['seq']}, from warehouse "
            f"build {r['warehouse_fingerprint'][:12]} (data through {r['data_through']})"
        )


def _by_hash(rows: list[dict]) -> dict[str, tuple[dict, str]]:
    """Each issued file's SHA-256 (its manifest's too) → the first row that issued it."""
    found: dict[str, tuple[dict, str]] = {}
    for row in rows:
        for name, digest in json.loads(row["files"]).items():
            found.setdefault(digest, (row, name))
        if row.get("manifest_sha256"):
            found.setdefault(row["manifest_sha256"], (row, f"{row['stem']}.manifest.json"))
    return found


def verify(layout: Layout, files: list[Path]) -> tuple[ledger.Altered | None, list[Verdict]]:
    """The register's chain first (a broken chain vouches for nothing), then each file
    against every file the register lists, by its bytes' SHA-256."""
    altered = ledger.check_chain(layout)
    if altered is not None:
        return altered, []
    by_hash = _by_hash(issued(layout))
    out = []
    for f in files:
        found = by_hash.get(hashlib.sha256(f.read_bytes()).hexdigest())
        out.append(Verdict(f, found[0], found[1]) if found else Verdict(f, None, None))
    return None, out


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

"""Where everything lives under a data root. One place, so no stage guesses a path."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())  # absolute: GX, DuckDB views and Spark need it

    # --- landing zone (data-contract.md) ---
    def raw(self, table: str, day: dt.date | None = None) -> Path:
        base = self.root / "raw" / table
        return base if day is None else base / f"dt={day.isoformat()}"

    # --- curated layer written by Spark, read by dbt and the gates ---
    @property
    def curated(self) -> Path:
        return self.root / "curated"

    def accepted(self, table: str) -> Path:
        """Accepted events: business_date=…/ingest_date=…/ (also the dedup index)."""
        return self.curated / "accepted" / table

    def accepted_leaves(self, table: str, days, up_to: dt.date) -> list[Path]:
        """The accepted-event folders of business dates ``days`` that ingests up to
        ``up_to`` wrote: what a run for ``up_to`` may see (never a later, unpublished run's)."""
        limit = f"ingest_date={up_to.isoformat()}"
        out = []
        for d in days:
            folder = self.accepted(table) / f"business_date={d.isoformat()}"
            if folder.is_dir():
                out += [p for p in sorted(folder.glob("ingest_date=*")) if p.name <= limit and not p.name.endswith(".old")]
        return out

    def curated_table(self, name: str) -> Path:
        """A curated table partitioned by business_date=… (or ingest_date=… for dq)."""
        return self.curated / name

    # --- operators only: never inside the analysts' warehouse ---
    def quarantine(self, table: str) -> Path:
        return self.root / "quarantine" / table

    @property
    def state(self) -> Path:
        return self.root / "state"

    # --- publication ---
    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

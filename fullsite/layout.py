"""Where everything lives under a data root. One place, so no stage guesses a path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


def is_data_file(path: Path) -> bool:
    """What a raw partition holds (decision D22): regular files named ``*.parquet`` that are
    not hidden (``.`` or ``_`` first: Hadoop's and Spark's convention for markers, checksums
    and files still being written, which Spark itself never reads). Spark, the gates, the
    reconciliation and dbt read exactly these; the raw gate names every other entry of a
    partition in a warning, and nothing reads it."""
    return path.suffix == ".parquet" and not path.name.startswith((".", "_")) and path.is_file()


def data_files(folder: Path) -> list[Path]:
    """The data files of a partition folder, in name order (none when it is missing)."""
    return sorted(p for p in folder.iterdir() if is_data_file(p)) if folder.is_dir() else []


def ignored_entries(folder: Path) -> list[Path]:
    """Everything else in a partition folder: read by nobody, named by the raw gate."""
    return sorted(p for p in folder.iterdir() if not is_data_file(p)) if folder.is_dir() else []


@dataclass(frozen=True)
class Layout:
    root: Path

    def __post_init__(self):
        # absolute: GX, DuckDB views and Spark need it
        object.__setattr__(self, "root", Path(self.root).resolve())

    # --- landing zone (data-contract.md) ---
    @property
    def landing(self) -> Path:
        """``raw/``: what upstream drops; a folder is a data root when it has one."""
        return self.root / "raw"

    def raw(self, table: str, day: dt.date | None = None) -> Path:
        base = self.landing / table
        return base if day is None else base / f"dt={day.isoformat()}"

    def raw_files(self, table: str, day: dt.date) -> list[Path]:
        return data_files(self.raw(table, day))

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
                out += [
                    p
                    for p in sorted(folder.glob("ingest_date=*"))
                    if p.name <= limit and not p.name.endswith(".old")
                ]
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

    @property
    def last_success_file(self) -> Path:
        """The last successfully published ingest date (the sequence check's state)."""
        return self.state / "last_success.json"

    @property
    def run_lock(self) -> Path:
        return self.state / "run.lock"

    @property
    def run_log(self) -> Path:
        """One Parquet record per run and ingest date (dq.run_log is a view over them)."""
        return self.root / "dq" / "run_log"

    @property
    def reserve(self) -> Path:
        """Space kept for saying why a run failed: freed first when the disk is full."""
        return self.root / "dq" / ".reserve"

    @property
    def last_error(self) -> Path:
        """The last failure's cause in words, with its trace."""
        return self.root / "dq" / "last_error.txt"

    # --- publication ---
    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def builds(self) -> Path:
        """Every build kept: the published one (warehouse.duckdb links to it), the ones the
        retention keeps, and the spare the next night builds on (D50)."""
        return self.root / "warehouse_builds"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def staging_warehouse(self) -> Path:
        """The unpublished build (write–audit–publish): the same file name as the published one."""
        return self.staging / "warehouse.duckdb"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def docs_site(self) -> Path:
        """The dbt docs site of the published warehouse (index.html)."""
        return self.root / "docs"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def statements(self) -> Path:
        """Finance statements (CSV, XLSX and a manifest per statement), unless ``--out`` says
        otherwise."""
        return self.reports / "statements"

    @property
    def statement_register(self) -> Path:
        """Every issue, one chained Parquet file each (finance.statement_register; D46)."""
        return self.reports / "register"

    @property
    def legacy_register(self) -> Path:
        """The register as one file, before D46: its rows open the chain once."""
        return self.reports / "register.parquet"

    @property
    def issued_lines(self) -> Path:
        """The lines of every issue, one file per issue (finance.issued_lines)."""
        return self.reports / "issued_lines"

    @property
    def issued_files(self) -> Path:
        """The files of every issue as issued (read-only): ``<seq>-<stem>/``."""
        return self.reports / "issued"

    @property
    def adjustments_seen(self) -> Path:
        """Each difference with a closed line, as the night that first published it saw it."""
        return self.reports / "adjustments_seen"

    @property
    def changes(self) -> Path:
        """What changed under the warehouse, per run: rules (dbt files) and restated raw."""
        return self.reports / "changes"

    @property
    def ledger_lock(self) -> Path:
        """Appends to the finance ledger wait for each other here (flock)."""
        return self.reports / "ledger.lock"

    @property
    def briefs(self) -> Path:
        """The nightly brief: <date>.html, latest.html and assets/ (shared scripts)."""
        return self.reports / "brief"

    def brief(self, day: dt.date | None = None) -> Path:
        """One night's brief page, or latest.html."""
        return self.briefs / (f"{day.isoformat()}.html" if day else "latest.html")

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    # Everything a pipeline run writes (raw/ is upstream's and stays): what a fresh demo clears.
    def run_outputs(self) -> list[Path]:
        return [
            self.curated,
            self.state,
            self.root / "quarantine",
            self.staging,
            self.root / "dq",
            self.warehouse,
            self.builds,
        ]

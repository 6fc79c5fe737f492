"""The three gates of pipeline.md ("Gates"): raw, curated, marts.

Each builds pandas frames (the data, or computed comparisons) and hands them to the GX
runner. Thresholds come from the rule parameters (fullsite/rules.py), like every number.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow.parquet as pq

from expectations.runner import (
    ERROR,
    Check,
    Explain,
    Finding,
    GateResult,
    examples,
    named,
    run_gate,
    warn,
)
from expectations.screen import all_pass, passed
from fullsite import curated, landing, rules
from fullsite.contract import (
    ACTIONS,
    BUSINESS_TZ,
    DAILY_TABLES,
    EVENT_TABLES,
    MONEY_SQL,
    ROI_CHOICES,
    SCHEMAS,
    TIERS,
)
from fullsite.layout import Layout, data_files, ignored_entries
from fullsite.quoting import duckdb_glob, sql_literal


def _files(folder: Path) -> list[Path]:
    """Our own layers' Parquet files, or a raw partition's data files (one definition)."""
    return data_files(folder)


def _gx_root(layout: Layout) -> Path:
    return layout.data_docs


def _glob(folder: Path) -> str:
    """The Parquet files of a folder, as a DuckDB path pattern: the folder's own name (a data
    root, a partition) is literal, whatever characters it holds."""
    return sql_literal(duckdb_glob(folder) + "/*.parquet")


def _file_list(files: list[Path]) -> str:
    """These files, each literal (DuckDB expands a pattern in every path of a list)."""
    return "[" + ", ".join(sql_literal(duckdb_glob(f)) for f in files) + "]"


# ----------------------------------------------------------------------------- raw


def _logical(type_str: str) -> str:
    """Arrow spellings of one Parquet logical type (UTF8 may come back as large_string)."""
    return "string" if type_str in ("large_string", "string_view") else type_str


def contract_type(arrow_type: str) -> str:
    """An Arrow type as data-contract.md spells it (STRING, DECIMAL(18,2), TIMESTAMP …)."""
    m = re.fullmatch(r"decimal(?:128|256)?\((\d+), (\d+)\)", arrow_type)
    if m:
        return f"DECIMAL({m[1]},{m[2]})"
    if arrow_type.startswith("timestamp[us, tz=UTC"):
        return "TIMESTAMP"
    if arrow_type.startswith("timestamp"):
        return f"TIMESTAMP ({arrow_type[10:-1]}, not UTC microseconds)"
    names = {
        "string": "STRING",
        "large_string": "STRING",
        "bool": "BOOLEAN",
        "int32": "INT",
        "int64": "BIGINT",
        "date32[day]": "DATE",
        "double": "DOUBLE",
        "float": "FLOAT",
        "null": "NULL (no values)",
    }
    return names.get(arrow_type, arrow_type.upper())


def _schema_frame(layout: Layout, D: dt.date) -> pd.DataFrame:
    rows = []
    for table, schema in SCHEMAS.items():
        for f in _files(layout.raw(table, D)):
            try:
                actual = pq.read_schema(f)
            except Exception as exc:  # not Parquet at all, or cut short
                what = (
                    "an empty file (0 bytes)"
                    if f.stat().st_size == 0
                    else f"not a readable Parquet file ({(str(exc).splitlines() or [''])[0][:100]})"
                )
                rows.append((table, f.name, "(file)", "parquet", what))
                continue
            for fld in schema:
                got = (
                    _logical(str(actual.field(fld.name).type))
                    if fld.name in actual.names
                    else "missing"
                )
                rows.append((table, f.name, fld.name, str(fld.type), got))
            for extra in set(actual.names) - set(schema.names):
                rows.append(
                    (table, f.name, extra, "(not in contract)", str(actual.field(extra).type))
                )
    return pd.DataFrame(
        rows, columns=["table_name", "file", "column_name", "expected_type", "actual_type"]
    )


def _schema_problem(row, D: dt.date) -> str:
    """One sentence an operator can act on: table, partition, file, column, expected, found."""
    where = f"{row.table_name} dt={D} {row.file}"
    expected = contract_type(row.expected_type)
    if row.column_name == "(file)":
        return f"{where}: the whole file: {row.actual_type}, contract says Parquet"
    if row.actual_type == "missing":
        return f"{where}: column {row.column_name} is missing, contract says {expected}"
    found = contract_type(row.actual_type)
    return f"{where}: column {row.column_name} is {found}, contract says {expected}"


def _ignored_frame(layout: Layout, D: dt.date) -> pd.DataFrame:
    rows = [
        (table, entry.name) for table in SCHEMAS for entry in ignored_entries(layout.raw(table, D))
    ]
    return pd.DataFrame(rows, columns=["table_name", "entry"])


def _listed(lines: list[str], most: int = 1) -> tuple[str, list[str]]:
    """The first sentences as the summary, every one of them as the page's list."""
    summary = "; ".join(lines[:most]) + (
        f" (+{len(lines) - most} more)" if len(lines) > most else ""
    )
    return summary, lines if len(lines) > most else []


def _contract_checks(layout: Layout, D: dt.date) -> list[Check]:
    """The raw gate's checks read from the files' footers and names: schemas, required
    partitions, volumes, and (warnings) columns and entries outside the contract."""
    schema = _schema_frame(layout, D)
    contract_rows = schema[schema.expected_type != "(not in contract)"]
    extra_rows = schema[schema.expected_type == "(not in contract)"]
    checks = [
        _schema_check(contract_rows, D),
        _partitions_check(layout, D),
        volume_check(layout, D),
    ]
    if len(extra_rows):
        checks.append(
            _none_expected(
                "extra_columns",
                extra_rows,
                lambda r: (
                    f"{r.table_name} dt={D} {r.file}: column {r.column_name} "
                    "is not in the contract, ignored"
                ),
                3,
            )
        )
    ignored = _ignored_frame(layout, D)
    if len(ignored):
        checks.append(
            _none_expected(
                "ignored_files",
                ignored,
                lambda r: f"{r.table_name} dt={D} {r.entry}: not a data file (*.parquet), ignored",
                10,
            )
        )
    return checks


def _schema_check(contract_rows: pd.DataFrame, D: dt.date) -> Check:
    mismatches = contract_rows[contract_rows.expected_type != contract_rows.actual_type]
    types = gxe.ExpectColumnPairValuesToBeEqual(column_A="expected_type", column_B="actual_type")
    return Check(
        "schema",
        contract_rows
        if len(contract_rows)
        else pd.DataFrame({"expected_type": ["x"], "actual_type": ["x"]}),
        [named("types", types)],
        where=f"raw files dt={D}",
        explain={
            "types": lambda _: _listed([_schema_problem(r, D) for r in mismatches.itertuples()])
        },
    )


def _partitions_check(layout: Layout, D: dt.date) -> Check:
    present = pd.DataFrame(
        {
            "table_name": list(DAILY_TABLES),
            "partition_present": [bool(_files(layout.raw(t, D))) for t in DAILY_TABLES],
        }
    )
    missing = present[~present.partition_present]
    all_present = gxe.ExpectColumnValuesToBeInSet(column="partition_present", value_set=[True])
    return Check(
        "partitions",
        present,
        [named("present", all_present)],
        where=f"snapshot tables dt={D}",
        explain={
            "present": lambda _: (
                f"no data file for dt={D} in {', '.join(missing.table_name)} "
                "(these tables land every day)"
            )
        },
    )


def _none_expected(name: str, frame: pd.DataFrame, said, most: int) -> Check:
    """A warning for each row of ``frame`` (things found that the contract does not have),
    ``said(row)`` in words, the first ``most`` in its summary."""
    return Check(
        name,
        frame,
        [named("none", warn(gxe.ExpectTableRowCountToEqual(value=0)))],
        explain={"none": lambda f: _listed([said(r) for r in f.itertuples()], most)},
    )


def _small_tables_intact(layout: Layout, D: dt.date) -> bool:
    """The snapshot and change-log partitions of D are there and follow the contract's schema:
    their contents can be checked, whatever the event tables' files are like."""
    frame = _schema_frame(layout, D)
    small = frame[
        frame.table_name.isin(DAILY_TABLES) & (frame.expected_type != "(not in contract)")
    ]
    present = all(_files(layout.raw(t, D)) for t in DAILY_TABLES)
    return present and bool((small.expected_type == small.actual_type).all())


def raw_gate(layout: Layout, D: dt.date, run_key: str) -> GateResult:
    """Before Spark reads anything of D: schemas, required partitions, the small tables,
    and (warnings) the event tables' volumes and the entries that are not data files.
    Every finding of the night at once (issue 44): a broken event file does not hide what
    is wrong in the small tables; only a small table whose own files break the contract is
    not read."""
    result = run_gate("raw", run_key, _contract_checks(layout, D), _gx_root(layout))
    if not result.passed and not _small_tables_intact(layout, D):
        return result  # contents of a partition that breaks the contract are not read
    try:
        snapshot_checks = _snapshot_checks(layout, D)
    # e.g. text that is not UTF-8 in a small table: the partition breaks the contract
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        result.findings.append(
            Finding(
                check="snapshots",
                expectation="readable",
                severity=ERROR,
                unexpected_count=None,
                summary=f"merchants, products or campaign_changes dt={D} cannot be read: {first}",
            )
        )
        return result
    return _merge(result, run_gate("raw", run_key, snapshot_checks, _gx_root(layout)))


def ingested_unchanged_gate(
    layout: Layout, before: dt.date, run_key: str
) -> tuple[GateResult, list[landing.Change]]:
    """Part of the raw gate, once a run: the partitions ingested before ``before`` still hold
    what their nights read (fullsite/landing.py). A file added, rewritten or removed since is
    a warning that names it and its rows: the night goes on (its own partitions are intact),
    and the finding stays open in `fullsite status` until an operator acknowledges it."""
    found = landing.changes(layout, before)
    frame = pd.DataFrame({"finding": [c.sentence() for c in found]}, dtype=object)
    check = Check(
        "ingested_partitions",
        frame,
        [named("unchanged", warn(gxe.ExpectTableRowCountToEqual(value=0)))],
        where=f"raw partitions ingested before {before}",
        explain={"unchanged": lambda f: _listed(list(f.finding), 3)},
    )
    return run_gate("raw", run_key, [check], _gx_root(layout)), found


def restated_gate(layout: Layout, restated: list[landing.Change], run_key: str) -> GateResult:
    """Part of the raw gate of a restatement (D46): the files of already-processed partitions
    that the run re-processes — added, rewritten or removed since their night — named, never
    silent. A warning: re-processing them is what was asked."""
    frame = pd.DataFrame({"finding": [f"restated: {c.restated()}" for c in restated]}, dtype=object)
    check = Check(
        "restated_partitions",
        frame,
        [named("restated", warn(gxe.ExpectTableRowCountToEqual(value=0)))],
        where="raw partitions this run processes again",
        explain={"restated": lambda f: _listed(list(f.finding), 5)},
    )
    return run_gate("raw", run_key, [check], _gx_root(layout))


Screened = dict[dt.date, tuple[list[Check], list[Check]]]


def screen_raw_gates(layout: Layout, days: list[dt.date]) -> Screened | None:
    """The raw gates of a backfill's ingests in two GX validations (expectations/screen.py)
    when every one of them passes: each ingest's checks, for ``screened_raw_gate``. None when
    any ingest has any finding; then each is judged on its own (``raw_gate``)."""
    contract = {D: _contract_checks(layout, D) for D in days}
    if not all_pass("raw", contract):
        return None  # as in raw_gate, contents are read only once every contract check passed
    try:
        snapshots = {D: _snapshot_checks(layout, D) for D in days}
    except duckdb.Error:
        return None
    if not all_pass("raw", snapshots):
        return None
    return {D: (contract[D], snapshots[D]) for D in days}


def screened_raw_gate(layout: Layout, D: dt.date, run_key: str, screened: Screened) -> GateResult:
    """``raw_gate``'s result and data-docs page for an ingest that ``screen_raw_gates`` passed."""
    contract, snapshots = screened[D]
    return _merge(
        passed("raw", run_key, contract, _gx_root(layout)),
        passed("raw", run_key, snapshots, _gx_root(layout)),
    )


def _raw_rows(layout: Layout, table: str, D: dt.date) -> int | None:
    """Rows of a raw partition from the file footers; None when no data file landed."""
    files = _files(layout.raw(table, D))
    if not files:
        return None
    total = 0
    for f in files:
        try:
            total += pq.ParquetFile(f).metadata.num_rows
        except Exception:  # the schema check names a file that cannot be read
            pass
    return total


def _history_rows(layout: Layout, D: dt.date, nights: int) -> pd.DataFrame:
    """Raw rows per event table of the nights before D (at most ``nights`` back) that landed
    any event file: what their cleaning counts as rows_in. Read from the footers, so the
    gates of a backfill's ingests judge each against the nights before it before any of
    them is cleaned (decision D31)."""
    rows = []
    for k in range(1, nights + 1):
        day = D - dt.timedelta(days=k)
        counts = {t: _raw_rows(layout, t, day) for t in EVENT_TABLES}
        if any(n is not None for n in counts.values()):
            rows += [(t, n or 0) for t, n in counts.items()]
    return pd.DataFrame(rows, columns=["table_name", "rows_in"])


def volume_check(layout: Layout, D: dt.date) -> Check:
    """Freshness and volume (warnings, D28): an event table with no data file or no rows
    for the night, or rows outside [low, high] × the median of the trailing nights."""
    low, high = Decimal(rules.param("volume_band_low")), Decimal(rules.param("volume_band_high"))
    nights, least = (
        int(rules.param("volume_history_nights")),
        int(rules.param("volume_min_history_nights")),
    )
    history = _history_rows(layout, D, nights)
    rows = []
    for table in EVENT_TABLES:
        count = _raw_rows(layout, table, D)
        past = history[history.table_name == table].rows_in
        median = float(past.median()) if len(past) >= least else None
        if count is None:
            problem = f"{table} dt={D}: no data file landed (the night counts no {table} at all)"
        elif count == 0:
            problem = f"{table} dt={D}: the partition's files hold no rows"
        elif median is not None and not (float(low) * median <= count <= float(high) * median):
            problem = (
                f"{table} dt={D}: {count:,} rows, outside {float(low):.0%}–{float(high):.0%} of "
                f"the median of the {len(past)} nights before ({median:,.0f})"
            )
        else:
            problem = ""
        rows.append((table, count, median, problem))
    frame = pd.DataFrame(rows, columns=["table_name", "rows", "trailing_median", "problem"])
    return Check(
        "volumes",
        frame,
        [named("in_band", warn(gxe.ExpectColumnValuesToBeInSet(column="problem", value_set=[""])))],
        where=f"event tables dt={D}",
        explain={"in_band": lambda f: _listed([p for p in f.problem if p], 4)},
    )


def _merge(a: GateResult, b: GateResult) -> GateResult:
    a.findings += b.findings
    a.evaluated += b.evaluated
    a.docs = b.docs or a.docs
    return a


# Each of the day's campaign changes beside what came before it for its campaign (the earlier
# partitions' changes of the same campaigns): whether its action may follow (create first,
# nothing after end, pause only when running, resume only when paused), whether it falls on
# the ingest date, and whether its change_id is new.
CHANGE_ORDER_SQL = """
    with today as (select * from read_parquet({today})),
    seq as (
        select campaign_id, change_id, action, true as is_today, change_time from today
        union all
        select h.campaign_id, h.change_id, h.action, false, h.change_time from ({history}) h
        where h.campaign_id in (select campaign_id from today)
    ),
    ordered as (
        select *,
            lag(action) over campaign_so_far as prev_action,
            count(*) filter (where action = 'end') over before_it as ends_before,
            -- running state: paused after pause, running after create/resume; updates keep it
            last_value(
                case when action = 'pause' then 'paused'
                     when action in ('create', 'resume') then 'running' end ignore nulls
            ) over before_it as state_before
        from seq
        window campaign_so_far as (partition by campaign_id order by change_time, change_id),
               before_it as (
                   partition by campaign_id order by change_time, change_id
                   rows between unbounded preceding and 1 preceding
               )
    )
    select t.*,
           (t.change_time at time zone '{tz}')::date = DATE '{day}' as on_its_date,
           o.prev_action, o.ends_before, o.state_before,
           case
               when o.action = 'create' then o.prev_action is null
               when o.prev_action is null then false
               when o.ends_before > 0 then false
               when o.action = 'pause' then o.state_before = 'running'
               when o.action = 'resume' then o.state_before = 'paused'
               else true
           end as action_order_ok,
           t.change_id not in (select change_id from ({history})) as change_id_new
    from today t join ordered o on o.change_id = t.change_id and o.is_today
"""
NO_CHANGES_SQL = (
    "select null::varchar as change_id, null::timestamptz as change_time, "
    "null::varchar as campaign_id, null::varchar as action where false"
)


def _snapshot_checks(layout: Layout, D: dt.date) -> list[Check]:
    """The snapshot tables and the change log of D, on their own and against each other."""
    con = duckdb.connect()
    merchants = _file_list(layout.raw_files("merchants", D))
    products = _file_list(layout.raw_files("products", D))
    merchant_frame = con.sql(f"select * from read_parquet({merchants})").df()
    product_frame = con.sql(f"""select p.*, m.merchant_id is not null as merchant_known
                    from read_parquet({products}) p
                    left join (select distinct merchant_id from read_parquet({merchants})) m
                    using (merchant_id)""").df()
    raw = _RawRows(layout, D)
    return [
        _merchants_check(merchant_frame, raw),
        _products_check(product_frame, raw),
        _campaign_changes_check(_campaign_changes_frame(con, layout, D), raw),
    ]


def _campaign_changes_frame(con, layout: Layout, D: dt.date) -> pd.DataFrame:
    earlier = [
        f
        for d in sorted(layout.raw("campaign_changes").glob("dt=*"))
        if d.name < f"dt={D}"
        for f in _files(d)
    ]
    history = (
        "select change_id, change_time, campaign_id, action "
        f"from read_parquet({_file_list(earlier)})"
        if earlier
        else NO_CHANGES_SQL
    )
    today = _file_list(layout.raw_files("campaign_changes", D))
    sql = CHANGE_ORDER_SQL.format(today=today, history=history, tz=BUSINESS_TZ, day=D)
    return con.sql(sql).df()


class _RawRows:
    """How a snapshot check names its partition and its failing rows."""

    def __init__(self, layout: Layout, D: dt.date):
        self.layout, self.D = layout, D

    def where(self, table: str) -> str:
        files = ", ".join(f.name for f in self.layout.raw_files(table, self.D))
        return f"{table} dt={self.D} {files}"

    def failing(self, table: str, frame: pd.DataFrame, mask, column: str, what: str):
        bad = frame[~mask.astype(bool)]
        rows = f"{len(bad)} row{'s' if len(bad) != 1 else ''}"
        return f"{self.where(table)}: {what} in {rows}", examples(bad[column].tolist(), 10)


def _not_null(table: str) -> list:
    return [gxe.ExpectColumnValuesToNotBeNull(column=col) for col in SCHEMAS[table].names]


def _all_true(column: str):
    return named(column, gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True]))


def _merchants_check(frame: pd.DataFrame, raw: _RawRows) -> Check:
    expectations = [
        *_not_null("merchants"),
        gxe.ExpectColumnValuesToBeUnique(column="merchant_id"),
        gxe.ExpectColumnValuesToBeInSet(column="merchant_tier", value_set=list(TIERS)),
        gxe.ExpectColumnValuesToBeBetween(column="plan_quota", min_value=1),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]
    return Check("merchants", frame, expectations, where=raw.where("merchants"))


def _products_check(frame: pd.DataFrame, raw: _RawRows) -> Check:
    expectations = [
        *_not_null("products"),
        gxe.ExpectColumnValuesToBeUnique(column="product_id"),
        _all_true("merchant_known"),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]
    unknown = "column merchant_id names a merchant missing from merchants"
    explain = {
        "merchant_known": lambda f: raw.failing(
            "products", f, f.merchant_known, "merchant_id", unknown
        )
    }
    return Check("products", frame, expectations, where=raw.where("products"), explain=explain)


def _campaign_changes_check(frame: pd.DataFrame, raw: _RawRows) -> Check:
    def positive(column: str):
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True)

    expectations = [
        *_not_null("campaign_changes"),
        gxe.ExpectColumnValuesToBeUnique(column="change_id"),
        _all_true("change_id_new"),
        gxe.ExpectColumnValuesToBeInSet(column="action", value_set=list(ACTIONS)),
        gxe.ExpectColumnValuesToBeInSet(column="roi_choice", value_set=list(ROI_CHOICES)),
        positive("daily_budget"),
        positive("target_roi"),
        _all_true("action_order_ok"),
        _all_true("on_its_date"),
    ]
    said = {
        "change_id_new": "column change_id repeats a change of an earlier partition",
        "action_order_ok": "column action is out of order for its campaign (create first, "
        "pause only when running, resume only when paused, nothing after end)",
        "on_its_date": f"column change_time is not on {raw.D} ({BUSINESS_TZ})",
    }

    def explained(column: str):
        return lambda f: raw.failing("campaign_changes", f, f[column], "change_id", said[column])

    return Check(
        "campaign_changes",
        frame,
        expectations,
        where=raw.where("campaign_changes"),
        explain={column: explained(column) for column in said},
    )


def quarantine_gate(layout: Layout, D: dt.date, run_key: str) -> GateResult:
    """The raw gate's share check, once cleaning has classified D's rows (before any fact
    is built from them): quarantined share above the limit *and* above the row limit is an
    error; conflicting duplicates above their share *and* row limit are a warning (D28: any
    at all fired every night)."""
    return run_gate("raw", run_key, _quarantine_checks(layout, D), _gx_root(layout))


def screen_quarantine_gates(
    layout: Layout, days: list[dt.date]
) -> dict[dt.date, list[Check]] | None:
    """The quarantine shares of a backfill's ingests in one GX validation when every one
    passes (expectations/screen.py): each
    ingest's checks, for ``screened_quarantine_gate``; else None."""
    checks = {D: _quarantine_checks(layout, D) for D in days}
    return checks if all_pass("raw", checks) else None


def screened_quarantine_gate(
    layout: Layout, D: dt.date, run_key: str, screened: dict[dt.date, list[Check]]
) -> GateResult:
    """``quarantine_gate``'s result and page for an ingest that ``screen_quarantine_gates``
    passed."""
    return passed("raw", run_key, screened[D], _gx_root(layout))


def _quarantine_checks(layout: Layout, D: dt.date) -> list[Check]:
    limits = _QuarantineLimits()
    frame = _quarantine_frame(layout, D, limits)
    expectations = [
        named(
            "quarantined",
            gxe.ExpectColumnValuesToBeInSet(column="over_limit", value_set=[False]),
        ),
        named(
            "conflicts",
            warn(gxe.ExpectColumnValuesToBeInSet(column="conflicts_over_share", value_set=[False])),
        ),
    ]
    explain = {
        "quarantined": lambda f: _listed(
            [limits.quarantined(r, D) for r in f[f.over_limit].itertuples()], 4
        ),
        "conflicts": lambda f: _listed(
            [limits.conflicts(r, D) for r in f[f.conflicts_over_share].itertuples()], 4
        ),
    }
    return [
        Check(
            "quarantine_share", frame, expectations, where=f"event tables dt={D}", explain=explain
        )
    ]


def _pct(part, whole) -> str:
    return f"{part / whole:.2%}" if whole else "all"


class _QuarantineLimits:
    """The gate's limits (rules.md): a share *and* a row count, for quarantined rows (an
    error) and for conflicting duplicates (a warning); and how a table over them is said."""

    def __init__(self) -> None:
        self.share = Decimal(rules.param("gate_quarantine_max_share"))
        self.max_rows = int(rules.param("gate_quarantine_max_rows"))
        self.conflict_share = Decimal(rules.param("gate_conflict_max_share"))
        self.conflict_rows = int(rules.param("gate_conflict_max_rows"))

    def quarantined(self, r, D: dt.date) -> str:
        return (
            f"{r.table_name} dt={D}: {r.quarantined:,} of {r.rows_in:,} rows quarantined "
            f"({_pct(r.quarantined, r.rows_in)}), above {self.share:.2%} and {self.max_rows} "
            "rows (dq.quarantine_summary has the reasons)"
        )

    def conflicts(self, r, D: dt.date) -> str:
        return (
            f"{r.table_name} dt={D}: {r.conflicting_duplicates:,} of {r.rows_in:,} rows are "
            f"conflicting duplicates ({_pct(r.conflicting_duplicates, r.rows_in)}), above "
            f"{self.conflict_share:.2%} and {self.conflict_rows} rows: upstream redelivered "
            "events with different content"
        )


def _quarantine_frame(layout: Layout, D: dt.date, limits: _QuarantineLimits) -> pd.DataFrame:
    reconciliation = _glob(layout.curated_table("dq_ingest_reconciliation") / f"ingest_date={D}")
    summary = _glob(layout.curated_table("dq_quarantine_summary") / f"ingest_date={D}")
    return (
        duckdb.connect()
        .sql(f"""
        select r.table_name, r.rows_in, r.quarantined,
               coalesce(s.conflicts, 0)::bigint as conflicting_duplicates,
               (r.quarantined > {limits.max_rows}
                and r.quarantined > r.rows_in * {limits.share}) as over_limit,
               coalesce(s.conflicts, 0) > {limits.conflict_rows}
                and coalesce(s.conflicts, 0) > r.rows_in * {limits.conflict_share}
                   as conflicts_over_share
        from
            read_parquet({reconciliation}) r
        left join (select table_name, sum(rows) as conflicts
                   from
                       read_parquet({summary})
                   where reason = 'conflicting_duplicate' group by all) s using (table_name)
        order by r.table_name
    """)
        .df()
    )


# ------------------------------------------------------------------------- curated

# The curated tables of business dates and their keys (fullsite/curated.py, the registry).
KEYS = {name: list(curated.BY_NAME[name].key) for name in curated.BY_BUSINESS_DATE}


def curated_gate(
    layout: Layout,
    D: dt.date,
    days: list[dt.date],
    run_key: str,
    ingests: list[dt.date] | None = None,
) -> GateResult:
    """After Spark, before dbt: unique keys, reconciliation, totals tie out, no negatives."""
    con = duckdb.connect()
    checks = []
    for name, key in KEYS.items():
        src = _curated_source(layout, name, days)
        if src is None:
            continue
        dupes = con.sql(f"""select {", ".join(key)}, count(*) as copies from {src}
                            group by all having count(*) > 1""").df()
        checks.append(_keys_check(f"curated {name}", f"{name}_keys", dupes, key))
    checks.append(_reconciliation_check(con, layout, ingests or [D]))
    facts = _curated_source(layout, "fct_product_daily", days)
    if facts is not None:
        checks.append(_totals_check(con, layout, facts, days, D))
        checks.append(_no_negatives_check(con, facts))
    return run_gate("curated", run_key, checks, _gx_root(layout))


def _curated_source(layout: Layout, name: str, days: list[dt.date]) -> str | None:
    """The business dates ``days`` of a curated table, as a DuckDB source (None: none)."""
    parts = [layout.curated_table(name) / f"business_date={d}" for d in days]
    globs = [_glob(p) for p in parts if _files(p)]
    if not globs:
        return None
    return f"read_parquet([{', '.join(globs)}], hive_partitioning = true)"


def _reconciliation_check(con, layout: Layout, ingests: list[dt.date]) -> Check:
    """Every event table of every ingest balances: rows in = accepted + duplicates +
    quarantined, and rows in = the rows of its raw files."""
    frames = []
    for day in ingests:
        recon_dir = layout.curated_table("dq_ingest_reconciliation") / f"ingest_date={day}"
        raw_counts = {
            t: sum(pq.ParquetFile(f).metadata.num_rows for f in _files(layout.raw(t, day)))
            for t in EVENT_TABLES
        }
        recon = con.sql(
            f"select *, DATE '{day}' as ingest_date from read_parquet({_glob(recon_dir)})"
        ).df()
        recon["raw_rows"] = recon.table_name.map(raw_counts)
        frames.append(recon)
    recon = pd.concat(frames, ignore_index=True)
    recon["balanced"] = (recon.rows_in == recon.accepted + recon.duplicates + recon.quarantined) & (
        recon.rows_in == recon.raw_rows
    )
    expected_rows = len(EVENT_TABLES) * len(ingests)
    expectations = [
        named("balanced", gxe.ExpectColumnValuesToBeInSet(column="balanced", value_set=[True])),
        named("one_row_per_table", gxe.ExpectTableRowCountToEqual(value=expected_rows)),
    ]
    table = "curated dq_ingest_reconciliation"
    explain: dict[str, Explain] = {
        "balanced": lambda f: _listed(
            [
                f"{table} {r.table_name} dt={r.ingest_date:%Y-%m-%d}: {r.rows_in:,} rows in, "
                f"{r.raw_rows:,} in the raw files, {r.accepted:,} accepted + "
                f"{r.duplicates:,} duplicates + {r.quarantined:,} quarantined"
                for r in f[~f.balanced].itertuples()
            ],
            2,
        ),
        "one_row_per_table": lambda f: (
            f"{table}: {len(f)} rows, expected {expected_rows} "
            "(one per event table and ingest date)"
        ),
    }
    return Check("reconciliation", recon, expectations, where=table, explain=explain)


# The facts' spend and GMV per business date beside the accepted clicks' and purchases'.
TIES_SQL = """
    with f as (select business_date::date d, sum(spend) s, sum(gmv) g from {facts} group by 1)
    select coalesce(f.d, a.d, b.d) as business_date,
           coalesce(f.s, 0)::varchar as facts_spend,
           coalesce(a.s, 0)::decimal(38,2)::varchar as accepted_spend,
           coalesce(f.g, 0)::varchar as facts_gmv,
           coalesce(b.g, 0)::decimal(38,2)::varchar as accepted_gmv
    from f
    full join ({spend}) a on a.d = f.d
    full join ({gmv}) b on b.d = coalesce(f.d, a.d)
"""


def _accepted_sql(layout: Layout, table: str, days: list[dt.date], D: dt.date) -> str:
    """Per business date: the valid paid clicks' cost (clicks) or purchase amounts."""
    leaves = [_glob(p) for p in layout.accepted_leaves(table, days, D) if _files(p)]
    alias = "s" if table == "clicks" else "g"
    if not leaves:
        return f"select null::date d, null::{MONEY_SQL} {alias} where false"
    src = f"read_parquet([{', '.join(leaves)}], hive_partitioning = true)"
    if table == "clicks":
        total = "sum(cost) filter (where is_paid and not is_invalid)"
    else:
        total = "sum(amount)"
    return f"select business_date::date d, {total} {alias} from {src} group by 1"


def _totals_check(con, layout: Layout, facts: str, days: list[dt.date], D: dt.date) -> Check:
    spend, gmv = (_accepted_sql(layout, t, days, D) for t in ("clicks", "purchases"))
    ties = con.sql(TIES_SQL.format(facts=facts, spend=spend, gmv=gmv)).df()
    for col in ("facts_spend", "accepted_spend", "facts_gmv", "accepted_gmv"):
        ties[col] = ties[col].map(lambda v: str(Decimal(v).quantize(Decimal("0.01"))))

    def differs(a: str, b: str, what: str):
        return lambda f: _listed(
            [
                f"curated fct_product_daily business_date={r['business_date']:%Y-%m-%d}: "
                f"{what} is {r[a]} in the facts but {r[b]} in the accepted rows"
                for _, r in f[f[a] != f[b]].iterrows()
            ],
            2,
        )

    def equal(name: str, a: str, b: str):
        return named(name, gxe.ExpectColumnPairValuesToBeEqual(column_A=a, column_B=b))

    expectations = [
        equal("spend", "facts_spend", "accepted_spend"),
        equal("gmv", "facts_gmv", "accepted_gmv"),
    ]
    explain = {
        "spend": differs("facts_spend", "accepted_spend", "spend (valid paid clicks' cost)"),
        "gmv": differs("facts_gmv", "accepted_gmv", "GMV (purchase amounts)"),
    }
    return Check(
        "totals_tie_out", ties, expectations, where="curated fct_product_daily", explain=explain
    )


def _no_negatives_check(con, facts: str) -> Check:
    negatives = con.sql(f"""
        select * from {facts}
        where least(impressions, paid_impressions, clicks, paid_clicks, invalid_clicks,
                    favorites, carts, orders, units, paid_attributed_orders) < 0
           or least(gmv, spend, paid_attributed_gmv) < 0""").df()
    explain = {
        "none": lambda f: _listed(
            [
                f"curated fct_product_daily product_id={r.product_id} "
                f"business_date={r.business_date}: a count or amount is negative"
                for r in f.itertuples()
            ],
            2,
        )
    }
    return Check(
        "no_negatives",
        negatives,
        [named("none", gxe.ExpectTableRowCountToEqual(value=0))],
        where="curated fct_product_daily",
        explain=explain,
    )


def _keys_check(table: str, name: str, dupes: pd.DataFrame, key: list[str]) -> Check:
    """A table's key is unique: the duplicated key values, said as key=value."""

    def said(f):
        return _listed(
            [
                f"{table}: the key {', '.join(f'{k}={r[k]}' for k in key)} appears {r['copies']} "
                f"times"
                for _, r in f.iterrows()
            ],
            2,
        )

    return Check(
        name,
        dupes,
        [named("no_repeated_key", gxe.ExpectTableRowCountToEqual(value=0))],
        where=table,
        explain={"no_repeated_key": said},
    )


# --------------------------------------------------------------------------- marts


def marts_gate(layout: Layout, db_path: Path, run_key: str, D: dt.date) -> GateResult:
    """After dbt, before publication. dbt's own tests (run in the build) own everything dbt
    builds — keys, ranges, accepted values, one claim per settled window, compensation
    within spend, rates from the rate table; this gate owns what dbt cannot see: the money
    tied out across layers (curated Spark facts against the finance tables), and the
    operational warnings."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        checks = [_monthly_spend_check(con, layout, D), _over_quota_check(con)]
    finally:
        con.close()
    return run_gate("marts", run_key, checks, _gx_root(layout))


# Per month: the campaigns' spend in the curated facts, the merchants' spend in finance and
# the spend inside campaign versions (the marts), and whether the versions hold it.
MONTHLY_SPEND_SQL = """
    with c as (select cast(date_trunc('month', business_date) as date) m, sum(spend) s
               from read_parquet({segments}, hive_partitioning = true)
               where cast(business_date as date) <= DATE '{day}' group by 1),
         v as (select cast(date_trunc('month', business_date) as date) m, sum(spend) s
               from marts.fct_campaign_daily group by 1),
         r as (select month m, sum(spend) s from finance.merchant_rebates_monthly group by 1)
    select coalesce(c.m, r.m) as month,
           coalesce(c.s, 0)::decimal(38,2)::varchar as campaign_spend,
           coalesce(r.s, 0)::decimal(38,2)::varchar as merchant_spend,
           coalesce(v.s, 0)::decimal(38,2)::varchar as version_spend,
           abs(coalesce(r.s, 0) - coalesce(v.s, 0)) <= coalesce(r.s, 0) * {gap_share}
               as versions_hold_the_spend
    from c full join r on c.m = r.m left join v on v.m = coalesce(c.m, r.m)
"""


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def _monthly_spend_check(con, layout: Layout, D: dt.date) -> Check:
    """Campaign spend per rules §1 (every valid paid click of the campaign) against the
    merchants' spend_M; spend outside every version (a click before `create` or after
    `end`) is real spend that no window sees: a warning once it is more than a small share
    of the month (D28: a gap of cents warned every night, so nobody read it)."""
    gap_share = Decimal(rules.param("gate_version_spend_gap_max_share"))
    segments = sql_literal(
        duckdb_glob(layout.curated_table("fct_campaign_segment_daily")) + "/*/*.parquet"
    )
    sql = MONTHLY_SPEND_SQL.format(segments=segments, day=D, gap_share=gap_share)
    months = con.sql(sql).df()

    def unpaid_gap(f):
        return _listed(
            [
                f"month {r['month']:%Y-%m}: campaigns' valid paid clicks cost "
                f"{_money(r['campaign_spend'])}, but finance.merchant_rebates_monthly spend "
                f"sums to {_money(r['merchant_spend'])}"
                for _, r in f[f.campaign_spend != f.merchant_spend].iterrows()
            ],
            2,
        )

    def outside_versions(f):
        return _listed(
            [
                f"month {r['month']:%Y-%m}: "
                f"{_money(Decimal(r['merchant_spend']) - Decimal(r['version_spend']))} of "
                f"{_money(r['merchant_spend'])} spend is outside every campaign version (above "
                f"{gap_share:.2%}): real spend that no 7-day window sees"
                for _, r in f[~f.versions_hold_the_spend.astype(bool)].iterrows()
            ],
            2,
        )

    held = gxe.ExpectColumnValuesToBeInSet(column="versions_hold_the_spend", value_set=[True])
    expectations = [
        named(
            "merchants_hold_the_spend",
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="campaign_spend", column_B="merchant_spend"
            ),
        ),
        named("versions_hold_the_spend", warn(held)),
    ]
    explain = {"merchants_hold_the_spend": unpaid_gap, "versions_hold_the_spend": outside_versions}
    return Check(
        "monthly_spend_ties_out",
        months,
        expectations,
        where="finance.merchant_rebates_monthly",
        explain=explain,
    )


def _over_quota_check(con) -> Check:
    quota = con.sql(
        "select merchant_id, business_date, live_campaigns, plan_quota, over_quota from "
        "marts.merchant_plan_usage where over_quota"
    ).df()
    explain = {
        "none": lambda f: _listed(
            [
                f"marts.merchant_plan_usage merchant {r.merchant_id} on "
                f"{r.business_date:%Y-%m-%d}: {r.live_campaigns} live campaigns, plan quota "
                f"{r.plan_quota}"
                for r in f.itertuples()
            ],
            2,
        )
    }
    return Check(
        "over_quota_merchants",
        quota,
        [named("none", warn(gxe.ExpectTableRowCountToEqual(value=0)))],
        where="marts.merchant_plan_usage",
        explain=explain,
    )

"""dbt into a staging warehouse, then the atomic publication of that file.

Write–audit–publish: dbt builds ``staging/warehouse.duckdb`` from the curated layer — the
spare build brought up to date, or a copy of the published file, extended incrementally,
when this dbt project built it; else from scratch — the marts gate audits it; publication
files it among the builds and makes ``<data-root>/warehouse.duckdb`` a hard link to it with
one ``os.replace`` (builds.py, D50). A reader holding the old file open keeps its consistent
snapshot, new readers see the new file, and a run killed at any point leaves the published
file as it was (the staging file is simply rebuilt next time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fullsite import ledger, rules
from fullsite.files import write_atomic
from fullsite.layout import Layout
from fullsite.published import (
    BUILD_FILES,
    BUILD_RECORD,
    CONTENT_PARTS,
    PUBLISHED_SCHEMAS,
    build_of,
)
from fullsite.quoting import duckdb_glob, sql_literal
from fullsite.rules import DBT_PROJECT_DIR
from orchestration import builds, fingerprint
from orchestration.dbt_inprocess import invoke


@dataclass
class DbtOutcome:
    success: bool
    message: str


def staging_db(layout: Layout) -> Path:
    return layout.staging_warehouse


def _project_sources() -> list[Path]:
    """The files that decide what the dbt project builds: its SQL, seeds and configuration."""
    return [DBT_PROJECT_DIR / "dbt_project.yml"] + sorted(
        f
        for d in ("models", "macros", "seeds")
        for f in (DBT_PROJECT_DIR / d).rglob("*")
        if f.is_file()
    )


def project_files() -> dict[str, str]:
    """Each file of the dbt project (relative path) with its SHA-256: what a build records,
    so that a later build can name the rules that changed (finance.adjustments)."""
    return {
        str(f.relative_to(DBT_PROJECT_DIR)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in _project_sources()
    }


def project_fingerprint() -> str:
    """SHA-256 of the dbt project's SQL, seeds and configuration. A warehouse built by other
    SQL is never extended incrementally: its settled rows may follow other rules."""
    digest = hashlib.sha256()
    for f in _project_sources():
        digest.update(str(f.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def _built_at(warehouse: Path) -> str:
    """When the published build was built ("" when none): what a night changes is measured
    from there (finance.adjustments)."""
    made = build_of(warehouse)
    return made.built_at.isoformat() if made else ""


def _built_by_this_project(warehouse: Path) -> bool:
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    try:
        row = con.execute(f"select fingerprint from {BUILD_RECORD}").fetchone()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return row is not None and row[0] == project_fingerprint()


# How a staging file that started empty is recorded (and one whose start is not known).
BUILT_WHOLE = {"built_on": "nothing", "rebuilt_from": None, "since": None, "previous": ""}


def prepare_staging(
    layout: Layout, first: dt.date, D: dt.date, run_id: str | None = None, fresh: bool = False
) -> dict:
    """Start the staging warehouse of a run for ingests ``first … D``; returns dbt's vars.

    When this dbt project built the published warehouse, staging starts as the spare build
    (builds.py) or else a copy of the published file, and the incremental models rebuild
    only the dates from ``first - late_days`` on (from further back for the spare: what the
    builds since it could change) and the rows not yet final; otherwise — or ``fresh``: a
    restatement, whose settled rows may change — it starts empty and everything is built.
    (The published file is never written in place, so copying it under a reader is safe.)
    How it started is kept beside it (``base.json``) for ``finalize_staging``."""
    layout.staging.mkdir(parents=True, exist_ok=True)
    for path in (staging_db(layout), _wal(staging_db(layout)), _base_file(layout)):
        path.unlink(missing_ok=True)
    ledger.ensure(layout)  # dbt reads the finance ledger (finance.adjustments)
    previous = _built_at(layout.warehouse)
    dbt_vars = {"run_date": D.isoformat(), "run_id": run_id or "", "previous_build_at": previous}
    base = {**BUILT_WHOLE, "previous": previous}
    if not fresh and layout.warehouse.exists() and _built_by_this_project(layout.warehouse):
        own = first - dt.timedelta(days=int(rules.param("late_days")))
        changed = builds.take_spare(layout, staging_db(layout), project_fingerprint())
        if changed is None:
            shutil.copyfile(layout.warehouse, staging_db(layout))
        since = min(own, changed) if changed else own
        base.update(built_on="spare" if changed else "copy", rebuilt_from=own.isoformat())
        base["since"] = dbt_vars["rebuild_from"] = since.isoformat()
    write_atomic(_base_file(layout), json.dumps(base).encode())
    return dbt_vars


def _wal(path: Path) -> Path:
    return Path(str(path) + ".wal")


def _base_file(layout: Layout) -> Path:
    """How the staging file started (prepare_staging): what its build record will say."""
    return layout.staging / "base.json"


def _base(layout: Layout) -> dict:
    """How the staging file started; a file without it is fingerprinted whole."""
    try:
        return json.loads(_base_file(layout).read_text())
    except (OSError, ValueError):
        return dict(BUILT_WHOLE)  # a copy: the constant is shared


def dbt_args(layout: Layout, dbt_vars: dict, command: str = "build") -> list[str]:
    args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str((layout.staging / "dbt_target").resolve()),
        "--log-path",
        str((layout.staging / "dbt_logs").resolve()),
    ]
    return args + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])


# What dbt's parse of the project is given, the same for every data root and night: the data
# root as the staging folder's `..` (resolved by DuckDB's file_search_path at build time), and
# the database by its file name only: dbt names the catalog after it (`warehouse.<schema>.…`
# in every compiled model), and a parse opens no database.
PARSE_VARS = {"data_root": "..", "dbt_db": "warehouse.duckdb"}
# Every other var the project reads, at its empty value: a FULLSITE_* variable left in the
# process's environment (the models fall back to it for a dbt run by hand) never reaches a
# night's build.
BUILD_DEFAULTS = {"rebuild_from": "0001-01-01", "run_id": "", "previous_build_at": ""}


# dbt's parse of the project (partial_parse.msgpack), kept for the next run of any data
# root: dbt checks it against the project, the profile and the vars, and parses again when
# anything differs. Every run's dbt inputs are the same on purpose (see dbt_in_staging).
# But dbt does not check where the project was: its parse holds absolute paths (a seed is
# loaded from the folder it was parsed in), so the cache is named after the project's path,
# and a data root's own parse — it may come from another checkout — is never reused.
def _parse_cache() -> Path:
    key = hashlib.sha256(str(DBT_PROJECT_DIR.resolve()).encode()).hexdigest()[:16]
    return DBT_PROJECT_DIR / "target" / "parse-cache" / f"{key}.msgpack"


def _reuse_parse(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    parsed, cache = target / "partial_parse.msgpack", _parse_cache()
    parsed.unlink(missing_ok=True)
    if cache.exists():
        shutil.copyfile(cache, parsed)


def _keep_parse(target: Path) -> None:
    parsed, cache = target / "partial_parse.msgpack", _parse_cache()
    if parsed.exists():
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cache, parsed.read_bytes())
        except OSError:  # a read-only checkout: every run parses, nothing else changes
            pass


def run_dbt(
    layout: Layout, first: dt.date, D: dt.date, run_id: str | None = None, fresh: bool = False
) -> DbtOutcome:
    """``dbt build`` (models, seeds and every dbt test) into the staging file."""
    dbt_vars = prepare_staging(layout, first, D, run_id, fresh)
    # Unit tests check the SQL, not the night's data: they run in the test suite.
    result = dbt_in_staging(layout, ["build", "--exclude-resource-type", "unit_test"], dbt_vars)
    if result.success:
        return DbtOutcome(True, "dbt build passed")
    failed = [
        r
        for r in getattr(result.result, "results", None) or []
        if str(r.status) in ("error", "fail", "runtime error")
    ]
    # dbt stopped before its nodes (the project, the profile): its error's first lines
    if not failed:
        lines = [
            line.strip()
            for line in str(result.exception or "no result").splitlines()
            if line.strip()
        ]
        return DbtOutcome(False, "dbt could not run: " + ": ".join(lines[:2]))
    detail = (failed[0].message or str(failed[0].status)).strip().splitlines()[0]
    more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    return DbtOutcome(False, f"dbt {failed[0].node.unique_id}: {detail}{more}")


def dbt_in_staging(layout: Layout, command: list[str], dbt_vars: dict[str, str]):
    """``dbt <command>`` on the staging file, in this process, on a parse made once per process
    (orchestration/dbt_inprocess.py, D34); returns dbt's ``dbtRunnerResult``.

    Every input is an argument: nothing of the process (its environment, its working
    directory) is changed or read. The parse gets the same vars every time — the data root as
    ``..``, the database by its name — so that the first parse of a process reuses dbt's parse
    of the last one, of any data root (D31); the build gets the night's: the dates, the staging
    file, and the staging folder as where DuckDB resolves ``..``."""
    layout.staging.mkdir(parents=True, exist_ok=True)
    target = layout.staging / "dbt_target"
    common = [
        *dbt_args(layout, {})[1:],
        *("--log-level", "none", "--log-level-file", "debug"),  # the log file, not the terminal
        "--no-send-anonymous-usage-stats",
    ]
    build_vars = {
        **PARSE_VARS,
        **BUILD_DEFAULTS,
        "dbt_db": str(staging_db(layout).resolve()),
        "file_search_path": str(layout.staging.resolve()),
        **dbt_vars,
    }
    return invoke(
        parse=[*common, "--vars", json.dumps(PARSE_VARS)],
        command=[*command, *common, "--vars", json.dumps(build_vars)],
        fingerprint=project_fingerprint(),
        before_parse=lambda: _reuse_parse(target),
        after_parse=lambda: _keep_parse(target),
    )


def finalize_staging(
    layout: Layout, D: dt.date, run_id: str | None = None, dagster_run_id: str | None = None
) -> None:
    """Shape the staging file into what analysts see: published schemas only, the run log
    as a view over its Parquet files, and the file's own build record (which project built
    it, its content's fingerprint, the data through D and the run that published it)."""
    con = duckdb.connect(str(staging_db(layout)))
    try:
        for (schema,) in con.execute(
            "select schema_name from information_schema.schemata "
            "where catalog_name = current_database()"
        ).fetchall():
            if schema not in PUBLISHED_SCHEMAS and schema not in (
                "main",
                "information_schema",
                "pg_catalog",
            ):
                con.execute(f'drop schema "{schema}" cascade')
        con.execute("create schema if not exists dq")
        con.execute("create schema if not exists params")
        # a view's text: quoted, globs escaped
        logs = duckdb_glob(layout.run_log.resolve()) + "/*.parquet"
        con.execute(f"""create or replace view dq.run_log as
                        select run_id, ingest_date, started_at, finished_at, status, failed_gate,
                            message, timings, data_docs,
                               gates, dagster_run_id, shared_with, command_started_at
                        from read_parquet({sql_literal(logs)}, union_by_name = true)""")
        _build_record(con, layout, D, run_id, dagster_run_id)
        _comment(con, "view", "dq.run_log", RUN_LOG_DOCS)
        _ledger_views(con, layout)
        _comment(con, "table", BUILD_RECORD, BUILD_INFO_DOCS)
        _record_project_files(con)
        con.execute("checkpoint")
    finally:
        con.close()


def _build_record(con, layout: Layout, D: dt.date, run_id, dagster_run_id) -> None:
    """The file's build record, its content fingerprint brought up to date by parts."""
    base = _base(layout)
    since = dt.date.fromisoformat(base["since"]) if base["since"] else None
    con.execute(f"drop table if exists {BUILD_RECORD}")
    content = fingerprint.refresh(con, since, fingerprint.rebuilt_by_date())
    con.execute(
        f"""create table {BUILD_RECORD} as
            select ? as fingerprint, ? as content_fingerprint, now() as built_at,
                ?::date as data_through, ? as run_id, ? as dagster_run_id,
                ?::date as rebuilt_from, nullif(?, '')::timestamptz as previous_built_at,
                ? as built_on""",
        [
            project_fingerprint(),
            content,
            D,
            run_id,
            dagster_run_id,
            base["rebuilt_from"],
            base["previous"],
            base["built_on"],
        ],
    )
    _comment(con, "table", CONTENT_PARTS, CONTENT_PARTS_DOCS)


LEDGER_VIEWS = {
    "finance.statement_register": (
        "statement_register",
        ledger.REGISTER_COLUMNS,
        "Every finance statement issued from this data root, one row each (fullsite report …): "
        "what it covers, its files' SHA-256, the warehouse build it was drawn from, and the "
        "hash chain `fullsite report verify` checks. A view over <data-root>/reports/register/, "
        "so an issue never rewrites the published file.",
    ),
    "finance.issued_lines": (
        "issued_lines",
        ledger.ISSUED_LINE_COLUMNS,
        "Every line finance was issued, as issued (one money column a row): the lines of final "
        "statements close their period and never change; adjustment statements add lines that "
        "correct them (corrects_statement). Compare with finance.statement_lines (as known now) "
        "or read finance.adjustments. A read-only view over <data-root>/reports/issued_lines/.",
    ),
}


def _ledger_views(con, layout: Layout) -> None:
    """The finance ledger as analysts read it: views over its files, so an issue is seen at
    once and never rewrites the published file (they must read from day one)."""
    ledger.ensure(layout)
    con.execute("create schema if not exists finance")
    for view, (attribute, columns, text) in LEDGER_VIEWS.items():
        files = duckdb_glob(getattr(layout, attribute).resolve()) + "/*.parquet"
        con.execute(f"""create or replace view {view} as
                        select {", ".join(columns)}
                        from read_parquet({sql_literal(files)}, union_by_name = true)""")
        _comment(con, "view", view, {"": text, **{n: t for n, (_, t) in columns.items()}})


def _record_project_files(con) -> None:
    """Each dbt file this build was made from (beside its build record): a later run names
    the files that changed since, as the reason of an adjustment."""
    con.execute(f"drop table if exists {BUILD_FILES}")
    con.execute(f"create table {BUILD_FILES} (path varchar, sha256 varchar)")
    con.executemany(f"insert into {BUILD_FILES} values (?, ?)", sorted(project_files().items()))
    _comment(
        con,
        "table",
        BUILD_FILES,
        {
            "": "The dbt project files this build was made from, with their SHA-256 (the rules it "
            "applies): a later run compares them to name the rules that changed.",
            "path": "A file of the dbt project (models, macros, seeds, dbt_project.yml).",
            "sha256": "SHA-256 of its bytes.",
        },
    )


# The objects dbt does not build are described here, like dbt's persist_docs does for the rest.
RUN_LOG_DOCS = {
    "": "One row per nightly run and ingest date (a backfill writes one per date): how each night "
    "went. A view over <data-root>/dq/run_log, so recording a failed run never rewrites the "
    "published file.",
    "run_id": "<ingest date>-<start time>: the run's id (fullsite status --run RUN_ID shows it in "
    "detail).",
    "ingest_date": "The nightly partition the run processed.",
    "started_at": "When the run started (UTC).",
    "finished_at": "When it ended (UTC; an interrupted run: when Dagster recorded its end); null "
    "while running.",
    "status": "How the night's Dagster run ended, as Dagster recorded it: running (not over yet), "
    "success, failed (see failed_gate and message), refused (another run held the lock, or the "
    "sequence does not allow it: nothing ran) or interrupted (the process ended: killed, "
    "crashed, cancelled).",
    "failed_gate": "The gate that stopped the run (raw, curated, marts); null when it passed or a "
    "stage failed outside a gate.",
    "message": "What went wrong, in words, or the warnings of a successful run.",
    "timings": "Seconds per stage, as JSON.",
    "data_docs": "The run's data-docs page: every gate's findings in words and every check "
    "(<data-root>/data_docs/index.html lists all runs).",
    "gates": "Per gate (JSON): passed, checks evaluated, the errors and the warnings in words.",
    "dagster_run_id": "The Dagster run that ran this night (open it in the Dagster UI).",
    "shared_with": "A backfill's earlier night: the run id of its last night, whose record holds "
    "the stages the nights shared (one Spark pass, the curated and marts gates, "
    "dbt, publication); null otherwise.",
    "command_started_at": "When the process that ran the night started (UTC): the command's wall "
    "time runs from here to finished_at (imports, Dagster and the JVM "
    "included; started_at is when its stages began).",
}
BUILD_INFO_DOCS = {
    "": "This file's own build record: which dbt project built it, what it holds and when. A "
    "warehouse built by other SQL is rebuilt, never extended; statements and the brief name "
    "this build.",
    "fingerprint": "SHA-256 of the dbt project's SQL, seeds and configuration.",
    "content_fingerprint": "SHA-256 over every published table's rows (name, row count, sum of "
    "row hashes): the same content, the same fingerprint. Statements carry "
    "it as the warehouse build they were drawn from.",
    "built_at": "When this file was built (UTC).",
    "data_through": "The last ingest date published in this file.",
    "run_id": "The run-log record of the night that published this file (dq.run_log).",
    "dagster_run_id": "The Dagster run that published this file.",
    "rebuilt_from": "The first business date the night could change (its first ingest − "
    "late_days); null when the file was built whole (a first build, new rules, a restatement).",
    "previous_built_at": "When the build this one replaced was built (null: the first).",
    "built_on": "What the night's build started from: spare (the build before the published "
    "one, brought up to date), copy (a copy of the published file) or nothing (built whole).",
}
CONTENT_PARTS_DOCS = {
    "": "The parts the content fingerprint is summed from: per published table (and business "
    "date, for a table rebuilt by date) its rows and the sum of their hashes. A night hashes "
    "only the parts it rebuilt.",
    "table_name": "The published table (schema.table).",
    "by_column": "The date column the table is kept by (null: whole).",
    "part": "The value of that column (null: the whole table).",
    "row_count": "Rows in the part.",
    "hash_sum": "The sum of the rows' hashes (DuckDB hash of the whole row).",
}


def _comment(con, kind: str, name: str, docs: dict) -> None:
    for column, text in docs.items():
        target = f"{kind} {name}" if not column else f"column {name}.{column}"
        con.execute(f"comment on {target} is {sql_literal(text)}")


def publish(layout: Layout) -> None:
    """The one atomic step: the staging file becomes the published warehouse (filed among
    the builds, builds.py)."""
    builds.publish(layout, staging_db(layout))
    _base_file(layout).unlink(missing_ok=True)
    shutil.rmtree(layout.staging / "dbt_logs", ignore_errors=True)

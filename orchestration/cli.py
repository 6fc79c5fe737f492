"""The ``fullsite`` command line (pipeline.md, "Command line").

Every user error ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fullsite import settings
from fullsite.layout import Layout

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="fullsite: the nightly warehouse of the full-site promotion product.",
)
console = Console(stderr=True, soft_wrap=True)  # soft_wrap: an error stays on one line

DEMO_START = dt.date(2024, 7, 5)  # 30 days from here cross July's end and make July final
DEMO_DAYS = 30


class UserError(Exception):
    """A problem with the caller's input: reported in one line, exit code 2."""


def parse_date(text: str, option: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def writable_dir(path: str) -> Path:
    root = Path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"cannot write to data root {path!r}: {exc.strerror or exc}") from None
    return root


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def run_generate(data_root: str, start: dt.date, days: int, scale: str, seed: int) -> dict:
    from fullsite.generator.run import generate
    from fullsite.generator.scales import SCALES

    if scale not in SCALES:
        raise UserError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if days < 1:
        raise UserError(f"--days must be at least 1, got {days}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    root = writable_dir(data_root)
    with _progress() as progress:
        task = progress.add_task(f"generating {scale} data", total=days)
        counts = generate(
            root,
            start,
            days,
            scale,
            seed,
            progress=lambda done, _: progress.update(task, completed=done),
        )
    return counts


@app.command("generate")
def generate_cmd(
    data_root: str = typer.Option(..., "--data-root", help="Folder that receives raw/<table>/dt=…"),
    start: str = typer.Option(None, "--start", help="First ingest date, YYYY-MM-DD"),
    days: int = typer.Option(..., "--days", help="Number of days"),
    scale: str = typer.Option("small", "--scale", help="tiny | small | medium | large | xlarge"),
    seed: int = typer.Option(7, "--seed", help="Random seed: same seed, same bytes"),
    more: bool = typer.Option(
        False, "--continue", help="Land the next DAYS nights of the data root's own world"
    ),
) -> None:
    """Write a synthetic raw landing zone that follows the data contract (or, with --continue,
    its next nights: what a longer run of the same world lands, from the data root alone)."""
    if more:
        counts = run_generate_next(data_root, days)
    elif start is None:
        raise UserError(
            "--start is required (or --continue, to land the next nights of a generated root)"
        )
    else:
        counts = run_generate(data_root, parse_date(start, "--start"), days, scale, seed)
    total = sum(counts.values())
    typer.echo(
        f"wrote {total:,} rows under {Path(data_root) / 'raw'}: "
        + ", ".join(f"{name} {n:,}" for name, n in counts.items())
    )


def run_generate_next(data_root: str, days: int) -> dict:
    from fullsite.generator.run import Run, generate_next

    if days < 1:
        raise UserError(f"--days must be at least 1, got {days}")
    root = existing_root(data_root)
    try:
        run = Run.load(root)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    first = run.start + dt.timedelta(days=run.days)
    with _progress() as progress:
        task = progress.add_task(
            f"landing {first} … {first + dt.timedelta(days=days - 1)} ({run.scale})", total=days
        )
        return generate_next(
            root, days, progress=lambda done, _: progress.update(task, completed=done)
        )


def existing_root(path: str) -> Path:
    root = Path(path)
    if not Layout(root).landing.is_dir():
        raise UserError(f"unknown data root {path!r}: no raw/ landing zone there")
    return root


def _master(master: str | None) -> str | None:
    return master or settings.get("FULLSITE_SPARK_MASTER")


def run_pipeline(
    data_root: str, first: dt.date, last: dt.date, master: str | None, restate: bool = False
) -> list:
    """Ingests ``first … last`` as one run of the Dagster job ``nightly``
    (orchestration/launch.py)."""
    from orchestration.launch import launch
    from orchestration.pipeline import StageFailed
    from orchestration.state import RunRefused

    root = existing_root(data_root)
    days = (last - first).days + 1
    with _stages(days * 5 + 3) as said:
        try:
            records = launch(root, first, last, _master(master), on_progress=said, restate=restate)
        except RunRefused as exc:
            raise UserError(str(exc)) from None
        except StageFailed as exc:
            where = f" (data docs: {exc.docs})" if exc.docs else ""
            raise PipelineFailed(f"run failed: {exc.message}{where}") from None
    return records


@contextlib.contextmanager
def _stages(total: int):
    """Where a run's stage messages go: a progress bar on a terminal; otherwise (a log file, a
    scheduler) one plain line per stage with the time since the start, as pip and dbt do —
    a backfill is never silent for minutes (issue 47)."""
    if not console.is_terminal:
        start = time.monotonic()

        def line(msg: str) -> None:
            seconds = int(time.monotonic() - start)
            console.print(
                f"[{seconds // 60:02d}:{seconds % 60:02d}] {msg}", highlight=False, markup=False
            )

        yield line
        return
    with _progress() as progress:
        task = progress.add_task("starting", total=total)
        try:
            yield lambda msg: progress.update(task, advance=1, description=msg)
        except BaseException:
            progress.remove_task(task)  # the one line said instead
            raise
        progress.update(task, completed=total, description="published")


class PipelineFailed(Exception):
    """A gate or a stage failed: nothing was published. Exit code 1."""


@app.command("run")
def run_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    date: str = typer.Option(..., "--date", help="Ingest date D, YYYY-MM-DD"),
    master: str = typer.Option(
        None, "--master", help="Spark master URL (default local[2]; env FULLSITE_SPARK_MASTER)"
    ),
) -> None:
    """The nightly run for ingest date D: gates, Spark, dbt, publication."""
    D = parse_date(date, "--date")
    run_pipeline(data_root, D, D, master)
    typer.echo(f"published {D}: {Layout(Path(data_root)).warehouse}")


@app.command("backfill")
def backfill_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    first: str = typer.Option(..., "--from", help="First ingest date"),
    last: str = typer.Option(..., "--to", help="Last ingest date"),
    master: str = typer.Option(
        None, "--master", help="Spark master URL (default local[2]; env FULLSITE_SPARK_MASTER)"
    ),
) -> None:
    """Nightly runs FROM … TO in one pass; the same published figures as one by one."""
    a, b = parse_date(first, "--from"), parse_date(last, "--to")
    if b < a:
        raise UserError(f"--to {b} is before --from {a}")
    run_pipeline(data_root, a, b, master)
    typer.echo(f"published {a} … {b}: {Layout(Path(data_root)).warehouse}")


@app.command("restate")
def restate_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    first: str = typer.Option(..., "--from", help="First ingest date to process again, YYYY-MM-DD"),
    master: str = typer.Option(
        None, "--master", help="Spark master URL (default local[2]; env FULLSITE_SPARK_MASTER)"
    ),
) -> None:
    """Process the raw zone again from an ingest date through the last published night, as
    one run through the same gates and write–audit–publish: files added to, rewritten in or
    removed from those partitions are counted, and every figure becomes what a fresh
    backfill gives. Closed statements that change get adjustments (fullsite report adjustments)."""
    from orchestration.state import last_success

    a = parse_date(first, "--from")
    last = last_success(existing_root(data_root).resolve())
    if last is None:
        raise UserError(f"nothing is published in {data_root} yet: backfill it instead")
    if a > last:
        raise UserError(f"--from {a} is after the last published night {last}: nothing to restate")
    run_pipeline(data_root, a, last, master, restate=True)
    typer.echo(f"restated {a} … {last}: {Layout(Path(data_root)).warehouse}")


@app.command("status")
def status_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    run: str = typer.Option(
        None, "--run", help="One run in detail: stage timings, gates, data docs"
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """What is published (read from the file itself), recent nights, open findings, alerts."""
    from orchestration import status

    root = existing_root(data_root)
    layout = Layout(root)
    _reconcile_if_idle(root)
    if run is not None:
        _status_of_run(layout, run, as_json)
        return
    said = status.gather(layout, _owed_briefs(layout), _open_adjustments(layout))
    typer.echo(status.as_json(said) if as_json else "\n".join(status.lines(said, data_root)))


def _status_of_run(layout: Layout, run: str, as_json: bool) -> None:
    """One run in detail: its record, stage timings, gates and data docs."""
    from orchestration import alerts, runlog, state, status

    made = state.published_build(layout.root)
    row = runlog.read_one(layout.root, run)
    if row is None:
        raise UserError(f"unknown run {run!r}: no record in {runlog.folder(layout.root)}")
    row = status.shown(layout.root, row, made.run_id if made else None)
    row["timings"] = json.loads(row["timings"] or "{}")
    row["gates"] = json.loads(row["gates"] or "{}")
    if as_json:
        typer.echo(json.dumps({k: status.jsonable(v) for k, v in row.items()}, indent=2))
        return
    docs = alerts.shown_path(layout, row["data_docs"], alerts.docs_url(layout))
    _print_run({**row, "data_docs": docs})


def _reconcile_if_idle(root: Path) -> None:
    """The run log written from Dagster for every run whose process ended before its
    records were (`dagster job execute`, a run the daemon launched, a killed run), so that
    status and Dagster say the same thing: reconciled when no run is alive
    (orchestration/reconcile.py); else the runs Dagster holds over are settled."""
    from orchestration import runlog, state

    if not runlog.ended_unrecorded(root):
        return
    from orchestration.launch import instance
    from orchestration.outcome import settle_ended
    from orchestration.reconcile import reconcile

    try:
        with instance(root) as inst:
            try:
                with state.run_lock(root):
                    reconcile(root, inst)
            except state.RunRefused:  # a run is alive: it reconciles what was killed
                settle_ended(root, inst, interrupted=False)
    except OSError:  # the root is read-only
        pass


def _open_adjustments(layout: Layout) -> list[dict]:
    """Adjustments to closed statements not issued yet (publications/adjustments.py)."""
    from publications.adjustments import open_adjustments
    from publications.published import NotPublished, connect

    try:
        con = connect(layout)
    except NotPublished:
        return []
    try:
        return open_adjustments(con)
    finally:
        con.close()


def _owed_briefs(layout: Layout) -> list[dt.date]:
    """Published nights whose brief is not drawn (a drawing killed or failed)."""
    from publications.brief import owed_briefs
    from publications.published import NotPublished

    try:
        return [d for d in owed_briefs(layout) if not layout.brief(d).exists()]
    except NotPublished:
        return []


@app.command("acknowledge")
def acknowledge_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    keys: list[str] = typer.Argument(None, help="Finding keys (fullsite status lists them)"),  # noqa: B008
    everything: bool = typer.Option(False, "--all", help="Every open finding"),
    alert_keys: list[str] = typer.Option(  # noqa: B008
        None, "--alert", help="An undelivered alert's key: stop retrying it"
    ),
    all_alerts: bool = typer.Option(False, "--alerts", help="Every undelivered alert"),
) -> None:
    """Close findings about ingested partitions (their rows stay uncounted until fullsite
    restate), or stop retrying undelivered alerts that were read elsewhere."""
    from fullsite import landing
    from orchestration import alerts

    layout = Layout(existing_root(data_root))
    if alert_keys or all_alerts:
        known = {p.alert.key for p in alerts.undelivered(layout)}
        if unknown := [k for k in alert_keys or [] if k not in known]:
            raise UserError(f"no undelivered alert {unknown[0]!r} (fullsite status lists them)")
        done = alerts.acknowledge(layout, None if all_alerts else list(alert_keys))
        typer.echo(
            f"acknowledged {len(done)} alert{'s' if len(done) != 1 else ''}: no more retries"
        )
        if not keys and not everything:
            return
    if not keys and not everything:
        raise UserError(
            "name the findings to acknowledge (fullsite status lists their keys), or --all"
        )
    known = {f["key"] for f in landing.open_findings(layout)}
    if unknown := [k for k in keys or [] if k not in known]:
        raise UserError(f"no open finding {unknown[0]!r} (fullsite status lists the open ones)")
    closed = landing.acknowledge(layout, None if everything else list(keys))
    typer.echo(f"acknowledged {len(closed)} finding{'s' if len(closed) != 1 else ''}")
    for f in closed:
        typer.echo(f"  {f['finding']}")


def _print_run(row: dict) -> None:
    took = (row["finished_at"] - row["started_at"]).total_seconds() if row["finished_at"] else None
    command = row.get("command_started_at")
    wall = (
        (row["finished_at"] - command).total_seconds() if row["finished_at"] and command else None
    )
    typer.echo(f"run:              {row['run_id']}")
    typer.echo(f"ingest date:      {row['ingest_date']}")
    typer.echo(
        f"status:           {row['status']}"
        + (f" at the {row['failed_gate']} gate" if row["failed_gate"] else "")
    )
    if row["message"]:
        typer.echo(f"message:          {row['message']}")
    typer.echo(
        f"started:          {row['started_at']:%Y-%m-%d %H:%M:%S} UTC"
        + (
            f" (its stages {took:.0f} s"
            + (f"; the command {wall:.0f} s)" if wall is not None else ")")
            if took is not None
            else ""
        )
    )
    if row["dagster_run_id"]:
        typer.echo(f"dagster run:      {row['dagster_run_id']}")
    if row.get("shared_with"):
        typer.echo(
            f"backfill:         one pass with the night of {row['shared_with']}, whose record has "
            f"the shared stages"
        )
    if row["timings"]:
        typer.echo(
            "stages (s):       " + ", ".join(f"{k} {v:.1f}" for k, v in row["timings"].items())
        )
    for gate, seen in row["gates"].items():
        verdict = "passed" if seen["passed"] else "FAILED"
        typer.echo(
            f"{gate + ' gate:':<18}{verdict} ({seen['evaluated']} checks, {len(seen['errors'])} "
            f"errors, {len(seen['warnings'])} warnings)"
        )
        for line in seen["errors"]:
            typer.echo(f"    error:   {line}")
        for line in seen["warnings"]:
            typer.echo(f"    warning: {line}")
    if row["data_docs"]:
        typer.echo(f"data docs:        {row['data_docs']}")


@app.command("ui")
def ui_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    port: int = typer.Option(3000, "--port", help="The Dagster UI's port on 127.0.0.1"),
) -> None:
    """The Dagster UI and daemon (`dagster dev`) of a data root: its sensors and schedule run
    while it is up. Ctrl-C (SIGINT) or SIGTERM stops it and everything it started."""
    from orchestration.ui import serve

    root = existing_root(data_root).resolve()
    typer.echo(f"Dagster UI of {root}: http://127.0.0.1:{port} (Ctrl-C stops it)")
    raise typer.Exit(serve(root, port))


@app.command("docs")
def docs_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    serve: bool = typer.Option(False, "--serve", help="Also serve the site on 127.0.0.1"),
    port: int = typer.Option(8080, "--port", help="Port for --serve"),
) -> None:
    """Write the dbt docs site of the published warehouse to <data-root>/docs/index.html."""
    from publications.docs_site import DocsFailed, write_docs
    from publications.docs_site import serve as serve_docs

    root = existing_root(data_root)
    try:
        page = write_docs(Layout(root))
    except DocsFailed as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"docs: {page} (opens from disk)")
    if serve:
        serve_docs(page.parent, port)


@app.command("brief")
def brief_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    date: str = typer.Option(
        None, "--date", help="YYYY-MM-DD ingest date (default: the last published)"
    ),
) -> None:
    """Re-render the nightly brief (<data-root>/reports/brief/<date>.html) from the published
    warehouse."""
    from publications.brief import BriefFailed, write_brief

    root = existing_root(data_root)
    try:
        page = write_brief(Layout(root), parse_date(date, "--date") if date else None)
    except BriefFailed as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"brief: {page} (opens from disk)")


def _listed(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@app.command("metrics")
def metrics_cmd(
    data_root: str = typer.Option(..., "--data-root"),
    names: str = typer.Option(
        None, "--metrics", help="Comma-separated metric names (none: list every metric)"
    ),
    group_by: str = typer.Option(
        None, "--group-by", help="e.g. metric_time__week,merchant__merchant_tier"
    ),
    first: str = typer.Option(None, "--from", help="First date of metric_time, YYYY-MM-DD"),
    last: str = typer.Option(None, "--to", help="Last date of metric_time, YYYY-MM-DD"),
    where: list[str] = typer.Option(  # noqa: B008
        None,
        "--where",
        help="A MetricFlow filter, e.g. \"{{ Dimension('merchant__merchant_tier') }} = 'sme'\"",
    ),
    order_by: str = typer.Option(
        None,
        "--order-by",
        help="Comma-separated; '-' first for descending (default: the --group-by columns)",
    ),
    limit: int = typer.Option(None, "--limit"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
) -> None:
    """Answer a metric question from the published warehouse, read-only (the semantic layer)."""
    from publications.metrics import MetricQueryError, ask, connect, metrics, render

    if not names:
        for m in metrics():
            typer.echo(f"{m.name:<32} {m.description}")
        return
    if fmt not in ("table", "csv", "json"):
        raise UserError(f"--format must be table, csv or json, got {fmt!r}")
    a = parse_date(first, "--from") if first else None
    b = parse_date(last, "--to") if last else None
    if a and b and b < a:
        raise UserError(f"--to {b} is before --from {a}")
    warehouse = Layout(existing_root(data_root)).warehouse
    if not warehouse.exists():
        raise UserError(f"no published warehouse at {warehouse}: run the pipeline first")
    con = connect(warehouse)
    try:
        # Rows in the order of what they are grouped by, unless asked otherwise (issue 47).
        frame = ask(
            con,
            _listed(names),
            _listed(group_by),
            start=a,
            end=b,
            where=where or (),
            order_by=_listed(order_by) or _listed(group_by),
            limit=limit,
        )
    except MetricQueryError as exc:
        raise UserError(str(exc)) from None
    finally:
        con.close()
    typer.echo(render(frame, fmt))


report_app = typer.Typer(help="Finance statements (final figures only).", no_args_is_help=True)
app.add_typer(report_app, name="report")


def parse_month(text: str, argument: str = "--month") -> dt.date:
    try:
        if len(text) != 7:
            raise ValueError
        return dt.date.fromisoformat(text + "-01")
    except ValueError:
        raise UserError(f"{argument} must be a month YYYY-MM, got {text!r}") from None


def out_folder(path: str | None) -> Path | None:
    """``--out``: a folder (made if missing), never an existing file."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {path} is a file, not a folder")
    return folder


def _statement(fn, *args, **kwargs) -> None:
    from publications.closing import Closed
    from publications.published import NotPublished
    from publications.statements import NothingFinal

    try:
        out, issued = fn(*args, **kwargs)
    except (NothingFinal, NotPublished, Closed) as exc:
        raise UserError(str(exc)) from None
    # a folder that cannot be written, a full disk: nothing half-written is left behind
    except OSError as exc:
        raise UserError(
            f"cannot write the statement to {exc.filename or 'its folder'}: {exc.strerror or exc}"
        ) from None
    manifest = issued.manifest
    totals = ", ".join(f"{name} {float(value):,.2f}" for name, value in manifest["totals"].items())
    mark = "PROVISIONAL " if manifest["provisional"] else ""
    coverage = manifest["coverage"]
    typer.echo(
        f"{mark}{manifest['statement']} {manifest['period']}: {manifest['rows']} lines; totals "
        f"(CNY) {totals}; data through {coverage['data_through']}"
        + (f" ({coverage['partial']})" if coverage["partial"] else "")
    )
    if issued.reissued:
        place = manifest["register"]
        typer.echo(
            f"  already issued (register row {place['seq']}) and unchanged: the files as issued, "
            f"byte for byte"
        )
    for name in manifest["files"]:
        typer.echo(f"  {out / name}")
    typer.echo(
        f"  {out / (manifest['stem'] + '.manifest.json')} (sign-off: hashes, totals, coverage, "
        f"as-of)"
    )


PROVISIONAL = typer.Option(
    False,
    "--provisional",
    help="Issue figures that are not all final yet, marked PROVISIONAL on every page",
)
OUT = typer.Option(
    None, "--out", help="Folder for the statement (default <data-root>/reports/statements)"
)


@report_app.command("rebates")
def report_rebates(
    data_root: str = typer.Option(..., "--data-root"),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    out: str = OUT,
    provisional: bool = PROVISIONAL,
) -> None:
    """Monthly rebates per merchant, with a total line and control totals (final months only)."""
    from publications.statements import rebates_statement

    first_day = parse_month(month)
    _statement(
        rebates_statement,
        Layout(existing_root(data_root)),
        first_day,
        out_folder(out),
        provisional=provisional,
    )


@report_app.command("compensation")
def report_compensation(
    data_root: str = typer.Option(..., "--data-root"),
    first: str = typer.Option(..., "--from", help="First close_date"),
    last: str = typer.Option(..., "--to", help="Last close_date"),
    out: str = OUT,
    provisional: bool = PROVISIONAL,
) -> None:
    """Compensated windows by close_date, with a total line and control totals (final windows
    only)."""
    from publications.statements import compensation_statement

    a, b = parse_date(first, "--from"), parse_date(last, "--to")
    if b < a:
        raise UserError(f"--to {b} is before --from {a}")
    _statement(
        compensation_statement,
        Layout(existing_root(data_root)),
        a,
        b,
        out_folder(out),
        provisional=provisional,
    )


@report_app.command("adjustments")
def report_adjustments(
    data_root: str = typer.Option(..., "--data-root"),
    through: str = typer.Option(
        None, "--through", help="Adjustments first seen on or before this night (default: all)"
    ),
    out: str = OUT,
) -> None:
    """Adjustments to closed statements: each line corrects one issued line (issued + adjusted
    = as known now, stated in its Notes). Once issued they are not repeated."""
    from publications.adjustments import adjustments_statement

    day = parse_date(through, "--through") if through else None
    _statement(adjustments_statement, Layout(existing_root(data_root)), day, out_folder(out))


@report_app.command("verify")
def report_verify(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Statement files (CSV, XLSX or manifest) to check")
    ] = None,
    data_root: str = typer.Option(..., "--data-root"),
) -> None:
    """Whether the register is intact (its hash chain, every manifest and file as issued) and
    whether each file is one issued from this data root, from which build. Exit 1 when the
    register was altered or a file was not issued."""
    from publications.register import issued, verify

    layout = Layout(existing_root(data_root))
    for f in files or []:
        if not f.is_file():
            raise UserError(f"{f} is not a file")
    altered, verdicts = verify(layout, files or [])
    if altered is not None:
        typer.echo(altered.said())
        raise typer.Exit(1)
    if not files:
        typer.echo(
            f"register intact: {len(issued(layout))} rows, each chained to the one before; "
            "every manifest and file as issued"
        )
    for verdict in verdicts:
        typer.echo(verdict.said())
    if not all(v.issue for v in verdicts):
        raise typer.Exit(1)


explain_app = typer.Typer(
    help="The trail behind one figure of a statement (published warehouse only).",
    no_args_is_help=True,
)
app.add_typer(explain_app, name="explain")


def _explain(fn, *args) -> None:
    from publications.explain import UnknownId
    from publications.published import NotPublished

    try:
        lines = fn(*args)
    except (UnknownId, NotPublished) as exc:
        raise UserError(str(exc)) from None
    typer.echo("\n".join(lines))


@explain_app.command("compensation")
def explain_compensation(
    campaign_version_id: str = typer.Argument(..., help="e.g. C000123-v1"),
    data_root: str = typer.Option(..., "--data-root"),
) -> None:
    """Why a window's compensation is what it is: settings, window, daily figures, formula."""
    from publications.explain import compensation

    _explain(compensation, Layout(existing_root(data_root)), campaign_version_id)


@explain_app.command("rebate")
def explain_rebate(
    merchant_id: str = typer.Argument(...),
    month: str = typer.Argument(..., help="YYYY-MM"),
    data_root: str = typer.Option(..., "--data-root"),
) -> None:
    """Why a merchant's monthly rebate is what it is: spend, compensation netted, bracket, rate."""
    from publications.explain import rebate

    # the argument first: a typo is named before the root is looked at
    first_day = parse_month(month, "MONTH")
    _explain(rebate, Layout(existing_root(data_root)), merchant_id, first_day)


@app.command("demo")
def demo_cmd(
    data_root: str = typer.Option("data/demo", "--data-root", help="Where the demo data set goes"),
) -> None:
    """Generate the default data set (small, 30 days from 2024-07-05) and backfill it."""
    from orchestration.launch import dagster_home
    from orchestration.state import last_success
    from publications.docs_site import DocsFailed, write_docs
    from publications.headline import headline

    layout = Layout(Path(data_root))
    last = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    if last_success(layout.root) != last:
        for path in layout.run_outputs():
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(
                missing_ok=True
            )
        counts = run_generate(data_root, DEMO_START, DEMO_DAYS, "small", 7)
        typer.echo(
            f"demo data set: {sum(counts.values()):,} raw rows under "
            f"{layout.raw('impressions').parent}"
        )
        run_pipeline(data_root, DEMO_START, last, None)
    dagster_home(layout.root)  # DAGSTER_HOME for `dagster dev`: SQLite storage under the data root
    try:
        write_docs(layout)  # the dbt docs site of what was just published
    except DocsFailed as exc:
        raise PipelineFailed(str(exc)) from None
    typer.echo(headline(layout))


def _help_unwrapped(commands: typer.Typer) -> None:
    """Each paragraph of a command's docstring as one line of help, which the terminal wraps:
    the docstrings are wrapped at 100 columns for the code's sake, not the reader's."""
    for info in commands.registered_commands:
        doc = inspect.getdoc(info.callback) if info.callback is not None else None
        if info.help is None and doc:
            paragraphs = doc.split("\n\n")
            info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    for group in commands.registered_groups:
        if group.typer_instance is not None:
            _help_unwrapped(group.typer_instance)


_help_unwrapped(app)


def main() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # A log handler that cannot write (dbt's file log on a full disk) must not print its
    # own traceback over the one line that says what went wrong: Python's switch for it.
    logging.raiseExceptions = False
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        console.print(f"error: {exc}", style="red", highlight=False, markup=False)
        sys.exit(2)
    except PipelineFailed as exc:
        console.print(f"error: {exc}", style="red", highlight=False, markup=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        console.print("aborted", markup=False)
        sys.exit(130)
    except Exception as exc:  # usage errors of the CLI library and anything unexpected: one line
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # the help text was printed already
        if hasattr(exc, "format_message"):  # click/typer usage errors (bad option value, …)
            console.print(
                f"error: {exc.format_message()}", style="red", highlight=False, markup=False
            )
            sys.exit(getattr(exc, "exit_code", 2) or 2)
        console.print(
            f"error: {type(exc).__name__}: {exc}", style="red", highlight=False, markup=False
        )
        sys.exit(1)
    # typer.Exit(n) outside standalone mode comes back as a return value
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()

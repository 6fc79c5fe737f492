"""The nightly run and the backfill: gates around every stage, publication at the end.

    raw gate → Spark clean → quarantine share (raw gate) → Spark facts → curated gate
    → dbt build (with its tests) → marts gate → atomic publish

A backfill checks every ingest's files first, cleans all its ingests in one Spark pass
(the outcome of cleaning them one after the other, decision D31), then builds the facts
of the whole range in one pass and the warehouse once, for the last date. Accepted rows of
a business date only come from its own ingest and the two after it, so each date's facts
read exactly what the nightly run that settled it read; dbt models are functions of the
curated layer and the run date. The result equals nightly runs one by one (tested).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import ModuleType

from pyspark.sql import SparkSession

from expectations.docs_site import record_failure, record_note, run_folder
from fullsite import landing
from fullsite.files import write_atomic
from fullsite.layout import Layout
from orchestration import adjustments, faults, runlog, state, warehouse
from orchestration.runlog import RunRecord
from spark_jobs import nightly
from spark_jobs.facts import recomputed_dates
from spark_runtime.session import get_spark

RESERVE_BYTES = 1 << 20
COMPACT_AFTER_DAYS = 7  # a month's run records are merged once it ended this long before a run


def _gates() -> ModuleType:
    """The gates, loaded when one first runs: Great Expectations costs 2.7 s of import, which
    Dagster's code server and sensors (they load this module) never need."""
    import expectations.gates  # noqa: PLC0415 (import cost, above)

    return expectations.gates


class StageFailed(Exception):
    def __init__(self, gate: str | None, message: str, docs: str | None = None):
        super().__init__(message)
        self.gate, self.message, self.docs = gate, message, docs


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


class Pipeline:
    def __init__(
        self,
        data_root: str | Path,
        master: str | None = None,
        spark=None,
        progress: Callable[[str], None] | None = None,
    ):
        self.layout = Layout(Path(data_root))
        self.master = master
        self._spark = spark
        self._own_spark = spark is None
        self._warming: Future | None = None  # the session starting in the background (warm_up)
        self.progress = progress or (lambda msg: None)
        # every GateResult of the current run, in order (Dagster's checks)
        self.gate_results: list = []
        self.on_locked: Callable[[], object] | None = None  # called once a run holds the lock
        # the Dagster run this is (orchestration/definitions.py)
        self.dagster_run_id: str | None = None
        self.current: RunRecord | None = None  # the record of the ingest being worked on
        # open findings about ingested partitions (fullsite/landing.py)
        self.raw_findings: list[dict] = []
        # the current run's records, one per night (Dagster reports them)
        self.records: list[RunRecord] = []
        # files of processed partitions this run processes again
        self.restated: list[landing.Change] = []
        # a restatement: dbt builds from scratch (settled rows may change, D46)
        self.restating = False
        self.ingests: list[dict] = []  # what each night reads, recorded once it is published
        self.new_adjustments: list[dict] = []  # adjustments the published build showed first (D46)
        # the command's wall time is measured from here
        self.command_started = runlog.process_started()

    def warm_up(self) -> None:
        """Start the run's Spark session (the JVM and a first job) in the background while
        the raw gates — Python on one core — check the files: about 6 s of every run."""
        if self._spark is not None or self._warming is not None or self._adopt_active():
            return

        def start():
            spark = get_spark(self.master)
            spark.range(1).count()
            return spark

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spark-start")
        self._warming = pool.submit(start)
        pool.shutdown(wait=False)

    @property
    def spark(self):
        if self._spark is None and self._warming is not None:
            warming, self._warming = self._warming, None
            self._spark, self._own_spark = warming.result(), True  # its failure is the stage's
        if self._spark is None and not self._adopt_active():
            self._spark, self._own_spark = get_spark(self.master), True
        return self._spark

    def _adopt_active(self) -> bool:
        """Use the session this process already runs (tests), never stopping it."""
        active = SparkSession.getActiveSession()
        if active is not None:
            self._spark, self._own_spark = active, False
        return active is not None

    def close(self) -> None:
        if self._warming is not None:  # a run that stopped before Spark: stop what started
            try:
                self.spark  # noqa: B018
            except Exception:  # noqa: BLE001 - it never served the run; nothing to stop
                pass
        if self._spark is not None and self._own_spark:
            self._spark.stop()
            self._spark = None

    # -- stages ---------------------------------------------------------------------
    def _gate(self, rec: RunRecord, name: str, fn) -> None:
        t0 = time.monotonic()
        result = fn()
        self.gate_results.append(result)
        rec.timings[f"{name}_gate"] = rec.timings.get(f"{name}_gate", 0.0) + time.monotonic() - t0
        if result.docs:  # the page that explains the latest finding
            rec.data_docs = result.docs
        seen = rec.gates.setdefault(
            result.gate, {"passed": True, "evaluated": 0, "errors": [], "warnings": []}
        )
        seen["passed"] = seen["passed"] and result.passed
        seen["evaluated"] += result.evaluated
        seen["errors"] += [f.line() for f in result.errors]
        seen["warnings"] += [f.line() for f in result.warnings]
        if result.warnings:
            found = "; ".join(f"{result.gate} warning: {w.line()}" for w in result.warnings)
            rec.message = f"{rec.message}; {found}"[:1000] if rec.message else found[:1000]
        if not result.passed:
            raise StageFailed(result.gate, result.reason(), result.docs)

    def _timed(self, rec: RunRecord, name: str, fn):
        t0 = time.monotonic()
        out = fn()
        rec.timings[name] = rec.timings.get(name, 0.0) + time.monotonic() - t0
        return out

    def raw_stage(self, rec: RunRecord, D: dt.date, screened=None) -> None:
        """Gate 1 before Spark reads anything of D (``screened``: a backfill's gates that
        all passed together, see ``raw_stages``)."""
        self.progress(f"{D}: raw gate")
        if screened:
            self._gate(
                rec, "raw", lambda: _gates().screened_raw_gate(self.layout, D, rec.run_id, screened)
            )
        else:
            self._gate(rec, "raw", lambda: _gates().raw_gate(self.layout, D, rec.run_id))

    def raw_stages(self, days: list[dt.date], records: list[RunRecord]) -> None:
        """Gate 1 of every ingest, in order, each with its own record (appended as it
        begins). A backfill's ingests are first validated together: GX's cost is per
        expectation, so one validation of thirty nights costs about one night's. Only when
        that finds anything are they judged one by one, as a single night is (decision D35)."""
        screened, spent = self._screen(days, _gates().screen_raw_gates)
        for D in days:
            self.current = self.begin(D)
            records.append(self.current)
            if D == days[0]:
                self.ingested_stage(self.current, D)
                self.restated_stage(self.current)
            self.raw_stage(self.current, D, screened)
            self.ingests.append(landing.describe_ingest(self.layout, D))  # recorded once published
        records[0].timings["raw_gate"] += spent

    def restated_stage(self, rec: RunRecord) -> None:
        """A night processed before whose files changed since is restated: named in the raw
        gate (a warning), never silent, and processed again in full (D46)."""
        if self.restated:
            self._gate(
                rec, "raw", lambda: _gates().restated_gate(self.layout, self.restated, rec.run_id)
            )

    def ingested_stage(self, rec: RunRecord, first: dt.date) -> None:
        """The raw zone is append-only: a file added, rewritten or removed in a partition
        ingested before this run is a warning naming it and its rows (D43), kept open in
        ``fullsite status`` until acknowledged."""

        def gate():
            result, found = _gates().ingested_unchanged_gate(self.layout, first, rec.run_id)
            self.raw_findings = (
                landing.remember(self.layout, found, _now())
                if found
                else landing.open_findings(self.layout)
            )
            return result

        self._gate(rec, "raw", gate)

    def _screen(self, days: list[dt.date], screen) -> tuple:
        """``screen(layout, days)`` — a gate of several ingests validated together — or None
        for a single night; with the seconds it took. It only ever saves time, so whatever
        stops it (an unreadable file, say) is left to the ingest-by-ingest gates, which say
        it in that ingest's words and record."""
        t0 = time.monotonic()
        try:
            screened = screen(self.layout, days) if len(days) > 1 else None
        except Exception:  # noqa: BLE001 - the gates one by one meet it again and report it
            screened = None
        return screened, time.monotonic() - t0

    def clean_stage(self, records: list[RunRecord]) -> RunRecord:
        """Spark cleaning of the run's ingests in one pass, then the raw gate's quarantine
        share of each, in order (screened together first, as the raw gates are); returns
        the record of the last one judged."""
        first, last = records[0].ingest_date, records[-1].ingest_date
        days = [r.ingest_date for r in records]
        self.progress(f"{first}{f' … {last}' if last != first else ''}: Spark clean")
        self._timed(
            records[-1], "spark_clean", lambda: nightly.clean_dates(self.spark, self.layout, days)
        )
        screened, spent = self._screen(days, _gates().screen_quarantine_gates)
        for rec in records:
            self.current = rec
            if screened:
                gate = partial(
                    _gates().screened_quarantine_gate,
                    self.layout,
                    rec.ingest_date,
                    rec.run_id,
                    screened,
                )
            else:
                gate = partial(_gates().quarantine_gate, self.layout, rec.ingest_date, rec.run_id)
            self._gate(rec, "raw", gate)
            rec.own_end = _now()  # a backfill's earlier night: its own work ends here
        records[0].timings["raw_gate"] += spent
        return records[-1]

    def facts_stage(self, rec: RunRecord, D: dt.date, first: dt.date | None = None) -> None:
        """Spark facts and lifecycle of the dates that ingests ``first … D`` can change,
        then gate 2."""
        self.progress(f"{D}: Spark facts")
        self._timed(
            rec, "spark_facts", lambda: nightly.build_date(self.spark, self.layout, D, first)
        )
        self.progress(f"{D}: curated gate")
        ingests = _days(first or D, D)
        self._gate(
            rec,
            "curated",
            lambda: _gates().curated_gate(
                self.layout, D, recomputed_dates(D, first), rec.run_id, ingests
            ),
        )

    def dbt_stage(self, rec: RunRecord, D: dt.date, first: dt.date | None = None) -> None:
        """dbt build (models, seeds, dbt tests) into the staging warehouse, for the ingests
        ``first … D`` (incrementally when the published warehouse allows it)."""
        adjustments.record_sightings(self.layout)  # a run killed right after publishing left some
        adjustments.record_changes(self.layout, rec.run_id, D, self.restated)
        self.progress(f"{D}: dbt build")
        outcome = self._timed(
            rec,
            "dbt",
            lambda: warehouse.run_dbt(self.layout, first or D, D, rec.run_id, fresh=self.restating),
        )
        if not outcome.success:
            docs = record_failure(
                self.layout.data_docs, rec.run_id, "marts", "dbt build", outcome.message
            )
            raise StageFailed("marts", f"marts gate: {outcome.message}", str(docs))

    def audit_and_publish(self, rec: RunRecord, records: list[RunRecord], D: dt.date) -> None:
        """Gate 3 on the staging warehouse, then the one atomic publication."""
        self.progress(f"{D}: marts gate")
        self._gate(
            rec,
            "marts",
            lambda: _gates().marts_gate(
                self.layout, warehouse.staging_db(self.layout), rec.run_id, D
            ),
        )
        self._timed(
            rec,
            "finalize",
            lambda: warehouse.finalize_staging(self.layout, D, rec.run_id, self.dagster_run_id),
        )
        self.progress(f"{D}: publish")
        faults.crash_point("before-publish")
        self._timed(rec, "publish", lambda: warehouse.publish(self.layout))
        faults.crash_point("after-publish")
        state.set_last_success(self.layout.root, D)
        self._after_publish(records)
        finished = _now()
        for r in records:  # still 'running': Dagster says how the run ended (outcome.py)
            if r is rec:
                r.finished_at = finished
            else:  # a backfill's earlier night: its own stages ended after its gates; the rest
                # is rec's
                r.finished_at, r.shared_with = r.own_end or finished, rec.run_id
                self._note_shared(r, rec, records)
            r.write(self.layout.root)

    def _after_publish(self, records: list[RunRecord]) -> None:
        """What is published is the record now: the nights' raw files as processed (a
        restatement settles its findings), and the adjustments the build shows first."""
        for described in self.ingests:
            landing.write_ingest(self.layout, described)
        if self.restating:
            landing.settle(self.layout, records[0].ingest_date, records[-1].ingest_date)
        self.new_adjustments = adjustments.record_sightings(self.layout)

    def _note_shared(self, night: RunRecord, last: RunRecord, records: list[RunRecord]) -> None:
        """A backfill's earlier night shows where the gates it shared ran (its data docs page)."""
        page = run_folder(self.layout.data_docs, last.run_id) / "index.html"
        record_note(
            self.layout.data_docs,
            night.run_id,
            f"One of the {len(records)} nights of the backfill {records[0].ingest_date} … "
            f"{last.ingest_date}: cleaned in one Spark pass with the others; the curated and "
            f"marts gates ran once for the backfill, with the night of {last.ingest_date} "
            f"({last.run_id}): {page}",
        )

    def begin(self, D: dt.date) -> RunRecord:
        started = _now()
        rec = RunRecord(
            f"{D}-{started:%Y%m%dT%H%M%S%f}",
            D,
            started,
            dagster_run_id=self.dagster_run_id,
            command_started_at=self.command_started,
        )
        rec.write(self.layout.root)
        return rec

    # -- runs -----------------------------------------------------------------------
    def run_range(self, first: dt.date, last: dt.date, restate: bool = False) -> list[RunRecord]:
        """Nightly runs ``first … last``; publishes once at the end. Raises StageFailed.
        ``restate``: ingests ``first`` … the last published one, processed again (D46)."""
        if last < first:
            raise state.RunRefused(f"--to {last} is before --from {first}")
        # this run's, never an earlier run's
        self.gate_results, self.records, self.ingests = (
            [],
            [],
            [],
        )
        try:
            return self._run_locked(first, last, restate)
        # nothing ran: recorded, so the run log says what Dagster says
        except state.RunRefused as exc:
            self.refused(first, str(exc))
            raise
        except OSError as exc:  # before the first stage: the lock, the run log, the state
            failure = StageFailed(None, faults.describe(exc))
            self.fail([], None, failure, traceback.format_exc())
            raise failure from exc

    def _admit(self, first: dt.date, last: dt.date, restate: bool) -> dt.date:
        """The sequence rules (or a restatement's), and whether the run restates: a night
        processed before whose files changed since is restated, whoever asked (D46).
        Returns the run's last night."""
        root = self.layout.root
        if restate:
            last = state.check_restatement(root, first)
        else:
            state.check_sequence(root, first)
        published = state.last_success(root)
        self.restated = []
        if published is not None and first <= published:
            self.restated = landing.processed_changes(self.layout, first, published)
        self.restating = restate or bool(self.restated)
        return last

    def _run_locked(self, first: dt.date, last: dt.date, restate: bool = False) -> list[RunRecord]:
        root = self.layout.root
        with state.run_lock(root):
            if self.on_locked:  # no other run is alive: what an ended one left is reconciled
                self.on_locked()
            else:
                made = state.published_build(root)
                runlog.mark_interrupted(root, made.run_id if made else None)
            self._keep_reserve()
            last = self._admit(first, last, restate)
            runlog.compact(root, before=first - dt.timedelta(days=COMPACT_AFTER_DAYS))
            records: list[RunRecord] = self.records
            self.current = None  # the record a failure belongs to
            try:
                self.warm_up()
                # every file checked before Spark reads any
                self.raw_stages(_days(first, last), records)
                # One Spark pass cleans every ingest (as if one after the other: each
                # ingest's duplicates are judged against the ones before, decision D31);
                # the facts of the whole range are then built in one pass too.
                # the last night's record: the later stages run once, for the range
                rec = self.clean_stage(records)
                self.facts_stage(rec, last, first)
                self.dbt_stage(rec, last, first)
                self.audit_and_publish(rec, records, last)
            except StageFailed as exc:
                self.fail(records, self.current, exc)
                raise
            except Exception as exc:
                failure = StageFailed(None, faults.describe(exc))
                self.fail(records, self.current, failure, traceback.format_exc())
                raise failure from exc
            return records

    def refused(self, first: dt.date, why: str) -> None:
        """A run the lock or the sequence refused: one record saying why, nothing else (its
        status is Dagster's: refused, orchestration/outcome.py)."""
        now = _now()
        rec = RunRecord(
            f"{first}-{now:%Y%m%dT%H%M%S%f}",
            first,
            now,
            finished_at=now,
            message=f"refused: {why}",
            dagster_run_id=self.dagster_run_id,
            command_started_at=self.command_started,
        )
        try:
            rec.write(self.layout.root)
        except OSError:
            pass

    def fail(
        self, records: list[RunRecord], current: RunRecord | None, exc: StageFailed, trace: str = ""
    ) -> None:
        """Record the failure (the published warehouse is untouched): in each record of the
        run (their status is Dagster's, orchestration/outcome.py) and in
        ``dq/last_error.txt``. Best effort: on a full disk the records may not be writable
        either, and the failure must still reach the caller."""
        self._make_room()
        finished = _now()
        for rec in records:
            rec.finished_at = finished
            if rec is current:
                rec.failed_gate, rec.message, rec.data_docs = (
                    exc.gate,
                    exc.message,
                    exc.docs or rec.data_docs,
                )
            else:
                night = current.ingest_date if current else "the range"
                rec.message = f"not published: the run for {night} failed"
            try:
                rec.write(self.layout.root)
            except OSError:
                pass
        where = (
            f"{current.run_id} (ingest {current.ingest_date})"
            if current
            else "before the first stage"
        )
        text = (
            f"{finished:%Y-%m-%d %H:%M:%S} UTC  run {where} failed"
            f"{f' at the {exc.gate} gate' if exc.gate else ''}\n{exc.message}\n"
        )
        if exc.docs:
            text += f"data docs: {exc.docs}\n"
        try:
            self.layout.last_error.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.layout.last_error, text + (f"\n{trace}" if trace else ""))
        except OSError:
            pass

    def _make_room(self) -> None:
        """A failed run leaves nothing half-built behind (the staging warehouse, dbt's
        files), and frees the reserve: on a full disk, the room to say why (issue 44)."""
        shutil.rmtree(self.layout.staging, ignore_errors=True)
        self.layout.reserve.unlink(missing_ok=True)

    def _keep_reserve(self) -> None:
        """A megabyte kept aside while a run goes (freed by ``_make_room``)."""
        if self.layout.reserve.exists():
            return
        try:
            self.layout.reserve.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.layout.reserve, bytes(RESERVE_BYTES))
        except OSError:  # already full: the run says so where it stops
            pass

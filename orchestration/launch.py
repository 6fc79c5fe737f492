"""``fullsite run`` and ``fullsite backfill``: the Dagster job ``nightly``, in this process, on
the data root's own Dagster instance (``<data-root>/dagster``), so the UI shows every run.

A backfill is one run over the partition range (the job's single-run backfill policy).
What the run recorded comes back as the run-log records, or as the exception the pipeline
raised: ``RunRefused`` (another run, the wrong date) or ``StageFailed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from fullsite.layout import Layout
from fullsite.quoting import glob_safe_dir
from orchestration import faults, progress, runlog
from orchestration.definitions import FullsiteResource, build_definitions
from orchestration.names import JOB, NIGHTS_NAME, RANGE_END, RANGE_START, REFUSED, RESTATE
from orchestration.outcome import outcome_of, settle
from orchestration.pipeline import StageFailed
from orchestration.state import RunRefused

# The CLI shows its own progress and one-line errors; the run's events are in the instance.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# Our users' networks reach nothing: no telemetry, and no "join the community" pop-up over
# the UI an operator opens (kept if an operator already wrote their own dagster.yaml).
INSTANCE_YAML = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"


def dagster_home(root: Path) -> Path:
    """``<data-root>/dagster``, with its dagster.yaml: DAGSTER_HOME for `dagster dev`."""
    home = Layout(root).dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or not config.read_text().strip():
        config.write_text(INSTANCE_YAML)
    return home


def instance(root: Path) -> dg.DagsterInstance:
    """The data root's Dagster instance (SQLite storage under ``<data-root>/dagster``): the
    one ``dagster dev`` opens with DAGSTER_HOME pointing there (through a plain-named link
    when the path holds glob characters, so that its settings load)."""
    return dg.DagsterInstance.from_config(str(glob_safe_dir(dagster_home(root))))


def add_nights(inst: dg.DagsterInstance, first: dt.date, last: dt.date) -> None:
    """The nights ``first … last`` exist as partitions (the sensor adds them as they land; a
    run started by hand adds its own): the UI lists the nights that exist, and no others."""
    days = [str(first + dt.timedelta(days=k)) for k in range((last - first).days + 1)]
    known = set(inst.get_dynamic_partitions(NIGHTS_NAME))
    if missing := [d for d in days if d not in known]:
        inst.add_dynamic_partitions(NIGHTS_NAME, missing)


def launch(
    root: Path,
    first: dt.date,
    last: dt.date,
    master: str | None = None,
    on_progress: Callable[[str], None] | None = None,
    restate: bool = False,
) -> list[dict]:
    """Run ingests ``first … last`` through Dagster; the run-log records of the run.
    ``restate``: process published nights ``first … last`` again (D46)."""
    if last < first:
        raise RunRefused(f"--to {last} is before --from {first}")
    root = Path(root).resolve()
    job = build_definitions(root).resolve_job_def(JOB)
    tags = {RANGE_START: str(first), RANGE_END: str(last), **({RESTATE: "true"} if restate else {})}
    try:
        inst = instance(root)
    except OSError as exc:  # the data root cannot hold the instance: say why, in words
        raise StageFailed(None, faults.describe(exc)) from None
    with progress.listening(on_progress or (lambda msg: None)), inst:
        try:
            add_nights(inst, first, last)
            result = job.execute_in_process(
                instance=inst,
                tags=tags,
                raise_on_error=False,
                run_config=QUIET,
                resources={"fullsite": FullsiteResource(data_root=str(root), spark_master=master)},
            )
            run = inst.get_run_by_id(result.run_id)
        except Exception as exc:  # Dagster's own storage failed (a full disk): the run says why
            said = faults.describe(exc)
            runlog.fail_open(root, said)
            raise StageFailed(None, said) from None
        _settle(root, inst, result.run_id)
        failure = None if result.success else _failure(inst, result.run_id)
    if run is not None and REFUSED in run.tags:
        raise RunRefused(run.tags[REFUSED])
    if failure is not None:
        raise failure
    return [r for r in runlog.read_range(root, first, last) if r["status"] == "success"]


def _settle(root: Path, inst: dg.DagsterInstance, run_id: str) -> None:
    """The run's records written from Dagster's record of it (orchestration/outcome.py). A
    root that cannot take them now (full) leaves them open: status or the next run write them."""
    try:
        settle(root, inst, run_id, interrupted=False)
    except OSError:
        pass


def _failure(inst: dg.DagsterInstance, run_id: str) -> StageFailed:
    """The failure a run reported, as the pipeline's ``StageFailed`` (gate, said, docs): read
    from Dagster's record as the run log's is (orchestration/outcome.py)."""
    said = outcome_of(inst, run_id)
    if said is None or said.message is None:  # no failure of its step: ended some other way
        return StageFailed(None, f"the Dagster run {run_id} failed: unknown error")
    return StageFailed(said.gate, said.message, said.docs)

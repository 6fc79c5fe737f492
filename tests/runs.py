"""Runs in the tests go the way every run goes: through the Dagster job (orchestration/launch.py)."""
from __future__ import annotations

import datetime as dt

from orchestration.launch import QUIET, instance, launch


def night(root, first: dt.date, last: dt.date | None = None) -> list[dict]:
    """Ingests ``first … last`` (one date by default) as one Dagster run; raises what the run raised."""
    return launch(root, first, last or first)


def through_dagster_api(root, day: dt.date):
    """A run as the UI or the schedule launches it: the job, a partition, the instance;
    returns Dagster's result (it does not raise)."""
    from orchestration import definitions as d

    job = d.build_definitions(root).resolve_job_def(d.JOB)
    with instance(root) as inst:
        return job.execute_in_process(partition_key=str(day), instance=inst, raise_on_error=False, run_config=QUIET,
                                      resources={"fullsite": d.FullsiteResource(data_root=str(root))})

"""Runs in the tests go the way every run goes: through the Dagster job (orchestration/launch.py)."""
from __future__ import annotations

import datetime as dt

from orchestration.launch import launch


def night(root, first: dt.date, last: dt.date | None = None) -> list[dict]:
    """Ingests ``first … last`` (one date by default) as one Dagster run; raises what the run raised."""
    return launch(root, first, last or first)

"""Shared fixtures: tiny generated data sets, made once per test session."""
from __future__ import annotations

import datetime as dt
import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

TINY_START = dt.date(2024, 7, 28)  # crosses a month end
TINY_DAYS = 8


@pytest.fixture(scope="session")
def tiny_raw(tmp_path_factory):
    """A tiny raw landing zone: 8 days across July's end, seed 7."""
    from fullsite.generator.run import generate

    root = tmp_path_factory.mktemp("tiny")
    generate(root, TINY_START, TINY_DAYS, "tiny", seed=7)
    return root


@pytest.fixture(scope="session")
def spark():
    """One Spark session for the whole test run (starting one costs ~5 s)."""
    from spark_jobs.session import get_spark

    session = get_spark()
    yield session
    session.stop()

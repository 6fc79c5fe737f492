"""`make bench` stays in step with the pipeline: every stage timing a run records is one the
benchmark knows, and BENCHMARKS.md and its chart render from the benchmark's figures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import duckdb

from benchmarks.probe import STAGE_OF_TIMING, STAGES
from benchmarks.report import CHART_NAME, HISTORY_CHART, write_report


def test_every_stage_a_run_times_is_one_the_benchmark_sums(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    timings = duckdb.sql(
        f"select timings from read_parquet('{published_root}/dq/run_log/*.parquet')"
    ).fetchall()
    names = {key for (t,) in timings for key in json.loads(t)}
    assert "spark_clean" in names and "dbt" in names  # the run log holds the stages
    assert names <= set(STAGE_OF_TIMING), names - set(STAGE_OF_TIMING)
    assert set(STAGE_OF_TIMING.values()) <= set(STAGES)


def _night(scale: str, events: int, spark: float, duck: float, gib: float) -> dict:
    return {
        "scale": scale,
        "events": events,
        "repeats": 1,
        "wall": spark + 12,
        "seconds": {s: spark if s == "spark" else 1.0 for s in STAGES},
        "spark_clean": spark / 2,
        "spark_facts": spark / 2,
        "peak_memory": dict.fromkeys(STAGES, int(gib * 2**30)),
        "peak_memory_total": int(gib * 2**30),
        "duckdb_seconds": duck,
        "duckdb_peak_memory": 2**29,
        "duckdb_rows": 10,
        "duckdb_differing_rows": 0,
        "duckdb_ratio": spark / duck,
    }


MISSED = "| **missed**: why, in “Where the time goes” below |"


def _publish(size: int, prepare: float, finalize: float, swap: float) -> dict:
    seconds = {"prepare": prepare, "finalize": finalize, "publish": swap}
    return {"bytes": size, "total": sum(seconds.values()), **seconds}


def test_the_report_states_each_target_and_draws_the_chart(tmp_path):
    results = {
        "date": "2026-11-30",
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "memory_gib": 23.5,
            "os": "Linux",
            "python": "3.11",
            "java": "17",
            "versions": {"pyspark": "4"},
        },
        "nightly": [
            _night("small", 300_000, 20, 1, 2),
            _night("medium", 3_000_000, 37, 5, 3),
            _night("large", 10_000_000, 60, 18, 4.5),
            _night("xlarge", 30_000_000, 120, 50, 6),
        ],
        "history": {
            "repeats": 3,
            "day5_wall": 40.0,
            "day30_wall": 44.0,
            "history_ratio": 1.1,
            "day5_spark": 20.0,
            "day30_spark": 22.0,
            "spark_ratio": 1.1,
            "late_night": 366,
            "late_wall": 46.0,
            "late_ratio": 1.15,
            "late_spark": 23.0,
            "late_spark_ratio": 1.15,
            "day5_seconds": dict.fromkeys(STAGES, 1.0),
            "day30_seconds": dict.fromkeys(STAGES, 1.1),
            "late_seconds": dict.fromkeys(STAGES, 1.2),
            "state_bytes": {"curated": 3 * 2**30, "state": 2**20},
        },
        "backfill": {
            "repeats": 1,
            "wall": 130,
            "seconds": dict.fromkeys(STAGES, 1.0),
            "spark_clean": 50,
            "spark_facts": 30,
            "peak_memory_total": 2**31,
            "backfill_minutes": 130 / 60,
        },
        "range": {
            "repeats": 3,
            "nights": 10,
            "night_wall": 40.0,
            "range_wall": 88.0,
            "range_ratio": 2.2,
        },
        "publish": {
            "repeats": 3,
            "sizes": {
                "100 MiB": _publish(95 << 20, 0.2, 0.3, 0.0),
                "10 GiB": _publish(10 << 30, 30.0, 29.9, 0.1),
            },
            "publish_ratio": 120.0,
        },
        # a run of some sections keeps the others' figures: each says when it was measured
        "measured": {"nightly": "2026-12-07 22:34", "publish": "2026-12-07 20:09"},
    }
    out = tmp_path / "BENCHMARKS.md"

    write_report(results, out)

    text = out.read_text()
    assert f"]({CHART_NAME})" in text
    for figure, verdict in (
        ("`xlarge` night | 2.40", MISSED),
        ("`xlarge` / `large` (3 × the events) | 1.83", "| met |"),
        ("Peak memory of a night (process tree) | 6.0 GiB", "| met |"),
        ("`large` night | 3.33", MISSED),
        ("`small` demo | 2.2 min", "| met |"),
        ("after 365 nights of history / after 4 (`small`) | 1.15", MISSED),
        ("10-night backfill / one night, `small`, fresh roots | 2.20", MISSED),
        ("Publish step, ~10 GiB / ~100 MiB warehouse | 120.00", MISSED),
    ):
        line = next(row for row in text.splitlines() if figure in row)
        assert line.endswith(verdict), line
    assert "run started at: nightly 2026-12-07 22:34; publish 2026-12-07 20:09." in text
    # The analysis of the figures is copied in; the measurements behind the decisions are
    # linked, not copied.
    assert "## Where the time goes" in text and "# Measurements behind the decisions" not in text
    assert "(benchmarks/notes.md#measurements-behind-the-decisions)" in text
    for chart, lines in ((CHART_NAME, 5), (HISTORY_CHART, 8)):
        assert f"]({chart})" in text
        svg = ET.parse(tmp_path / chart).getroot()
        assert svg.tag.endswith("svg")
        assert len(svg.findall(".//{http://www.w3.org/2000/svg}polyline")) == lines

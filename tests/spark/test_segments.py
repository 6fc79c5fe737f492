"""Segment tagging (decision D7): each event gets the latest change time of its key at or
before it, to the microsecond; events before the first change get none."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import types as T

from spark_jobs.facts import _with_segment, segments

UTC = dt.UTC
C1 = dt.datetime(2024, 7, 10, 2, 0, tzinfo=UTC)
C2 = dt.datetime(2024, 7, 10, 16, 0, tzinfo=UTC)
US = dt.timedelta(microseconds=1)


def test_events_fall_in_the_half_open_interval_of_their_campaign(spark):
    changes = spark.createDataFrame(
        [("A", C1), ("A", C1), ("A", C2), ("B", C2)],  # a duplicate change time counts once
        T.StructType(
            [
                T.StructField("campaign_id", T.StringType()),
                T.StructField("change_time", T.TimestampType()),
            ]
        ),
    )
    events = spark.createDataFrame(
        [
            ("e1", "A", C1 - US),
            ("e2", "A", C1),
            ("e3", "A", C2 - US),
            ("e4", "A", C2),
            ("e5", "A", C2 + dt.timedelta(days=9)),
            ("e6", "B", C1),
            ("e7", "B", C2),
            ("e8", None, C2),
        ],
        T.StructType(
            [
                T.StructField("event_id", T.StringType()),
                T.StructField("campaign_id", T.StringType()),
                T.StructField("event_time", T.TimestampType()),
            ]
        ),
    )
    # Compared as instants: PySpark hands timestamps back in the machine's local zone.
    got = {
        r["event_id"]: r["segment_start"] and r["segment_start"].timestamp()
        for r in _with_segment(events, segments(changes, "campaign_id"), "campaign_id").collect()
    }
    c1, c2 = C1.timestamp(), C2.timestamp()
    assert got == {
        "e1": None,
        "e2": c1,
        "e3": c1,
        "e4": c2,
        "e5": c2,
        "e6": None,
        "e7": c2,
        "e8": None,
    }

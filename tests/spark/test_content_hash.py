"""The content hash that tells an identical redelivery from a conflicting one (D4), and the
guard against comparing it with hashes of another format."""

from __future__ import annotations

import pytest
from pyspark.sql import types as T

from fullsite.layout import Layout
from spark_jobs.content_hash import STORE_FORMAT, check_store_format, content_hash

SCHEMA = T.StructType([T.StructField(c, T.StringType()) for c in ("id", "a", "b")])


def test_equal_content_equal_hash_and_every_difference_counts(spark):
    rows = [
        ("same-1", "x", None),
        ("same-2", "x", None),  # identical content
        ("swap-1", "x", None),
        ("swap-2", None, "x"),  # a null in another column
        ("cut-1", "ab", "c"),
        ("cut-2", "a", "bc"),  # the same characters split elsewhere
        ("null-1", None, None),
        ("null-2", "", ""),
    ]  # null is not the empty string
    df = spark.createDataFrame(rows, SCHEMA)
    h = {r["id"]: r["h"] for r in df.select("id", content_hash(["a", "b"]).alias("h")).collect()}
    assert h["same-1"] == h["same-2"]
    for case in ("swap", "cut", "null"):
        assert h[f"{case}-1"] != h[f"{case}-2"], case


def test_a_store_hashed_another_way_is_refused(tmp_path):
    layout = Layout(tmp_path)
    old = layout.accepted("clicks") / "business_date=2024-07-01" / "ingest_date=2024-07-01"
    old.mkdir(parents=True)
    (old / "part-0.parquet").write_bytes(b"written before the format marker existed")
    with pytest.raises(RuntimeError, match="SHA-256"):
        check_store_format(layout)


def test_a_new_store_is_marked_and_then_accepted(tmp_path):
    layout = Layout(tmp_path)
    check_store_format(layout)
    assert (tmp_path / "curated" / "accepted" / "FORMAT").read_text().strip() == STORE_FORMAT
    check_store_format(layout)  # the marked store passes

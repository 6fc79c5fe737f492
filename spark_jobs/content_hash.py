"""The content hash of a raw row: "identical content" of two copies is equal hashes (contract
step 1 and 3), and the accepted store's format marker that says how its hashes were made."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql import types as T

from fullsite.contract import EVENT_TABLES
from fullsite.layout import Layout

HASH = "_content_hash"
HASH_TYPE = T.StructType(
    [T.StructField("h1", T.LongType(), False), T.StructField("h2", T.LongType(), False)]
)
STORE_FORMAT = "fullsite accepted store 2: _content_hash = struct<h1, h2> of xxhash64"
"""Written next to the accepted stores: hashes of one format can only be compared with
hashes of the same format (the first format, an unmarked store, held SHA-256 bytes)."""


def content_hash(cols: list[str]) -> F.Column:
    """128 bits that stand for a row's contract columns: "identical content" (every column
    equal, nulls included) is equal hashes. Two 64-bit xxHash64 values with different seeds
    (a leading constant changes the seed) over the typed values, each followed by its null
    flag — Spark's hash skips nulls, so without the flags ``(null, 'x')`` and ``('x', null)``
    would hash alike. Hashes are only ever compared between copies of one id, so a false
    "identical" needs a 128-bit collision between two versions of one event."""
    parts = [x for c in cols for x in (F.col(c), F.col(c).isNull())]
    return F.struct(
        F.xxhash64(F.lit(1), *parts).alias("h1"), F.xxhash64(F.lit(2), *parts).alias("h2")
    )


def check_store_format(layout: Layout) -> None:
    """Refuse to judge redeliveries against accepted rows hashed another way (every one of
    them would look conflicting); mark a new store with the current format."""
    marker = layout.curated / "accepted" / "FORMAT"
    if marker.exists():
        found = marker.read_text().strip()
    elif any(
        True
        for t in EVENT_TABLES
        for _ in layout.accepted(t).glob("business_date=*/ingest_date=*/*.parquet")
    ):
        found = "fullsite accepted store 1 (SHA-256 content hash)"
    else:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(STORE_FORMAT + "\n")
        return
    if found != STORE_FORMAT:
        raise RuntimeError(
            f"{layout.curated / 'accepted'} holds '{found}', this version reads '{STORE_FORMAT}': "
            "move the curated zone aside and backfill from the first date"
        )

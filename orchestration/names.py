"""The names a night is known by in Dagster: the job, its partitions, its run tags and the
asset keys that other modules (the launcher, the reconciliation) look up. Kept apart from
the definitions so that those modules import them at the top without a cycle."""

import dagster as dg

JOB = "nightly"
NIGHTS_NAME = "nights"  # the dynamic partitions: the ingest dates that exist
# A run tag: the run did nothing, and why (another run held the lock, the sequence).
REFUSED = "fullsite/refused"
# The run tags of a partition range, as Dagster documents and sets them (their constants are
# private to Dagster: our code uses public APIs only, held by lint).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# A run tag: "true" re-processes published nights (fullsite restate, D46).
RESTATE = "fullsite/restate"
PUBLISHED = dg.AssetKey("published_warehouse")
BRIEF = dg.AssetKey("nightly_brief")

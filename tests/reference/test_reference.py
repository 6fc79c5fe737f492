"""The published warehouse agrees with an independent recomputation from the raw zone."""
from tests.conftest import PUBLISHED
from tests.reference.recompute import PUBLISHED as TABLES, differences


def test_every_published_table_equals_the_reference_recomputation(published_root):
    diffs = differences(published_root, PUBLISHED)

    assert not diffs, {table: rows[:3] for table, rows in diffs.items()}


def test_the_reference_covers_every_published_table():
    from tests.published import TABLES as PUBLISHED_TABLES

    assert set(PUBLISHED_TABLES) == set(TABLES)

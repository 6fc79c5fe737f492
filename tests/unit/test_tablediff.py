"""The multiset comparison the benchmark and the engine-comparison tests rely on."""

import duckdb

from fullsite.tablediff import differing_rows


def test_same_rows_in_another_order_do_not_differ():
    con = duckdb.connect()
    assert (
        differing_rows(
            con,
            "select * from (values (1, 'a'), (2, 'b'))",
            "select * from (values (2, 'b'), (1, 'a'))",
        )
        == 0
    )


def test_a_missing_copy_and_a_changed_value_are_counted_from_both_sides():
    con = duckdb.connect()
    a = "select * from (values (1, 'a'), (1, 'a'), (2, 'b'))"
    # duplicates count
    assert differing_rows(con, a, "select * from (values (1, 'a'), (2, 'b'))") == 1
    assert differing_rows(con, a, "select * from (values (1, 'a'), (1, 'a'), (2, 'c'))") == 2

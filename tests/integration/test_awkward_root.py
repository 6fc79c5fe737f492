"""No path is pasted into SQL or a glob (issue 38): a night in a data root whose name holds a
space, a quote, brackets and non-ASCII characters does all its work — gates, Spark, dbt,
publication, the brief, a metric, a statement — on a night of its own (made here)."""

from __future__ import annotations

import datetime as dt

from fullsite.generator.run import generate
from fullsite.layout import Layout
from orchestration.launch import instance
from publications import metrics
from publications.statements import rebates_statement
from tests.conftest import TINY_START
from tests.published import query
from tests.runs import night


def test_a_night_in_a_data_root_named_like_a_trap(tmp_path, spark):
    root = tmp_path / "o'brien [run 1] données"
    generate(root, TINY_START, 1, "tiny", seed=7)
    night(root, TINY_START)
    layout = Layout(root)
    assert query(layout.warehouse, "select count(*) > 0 from marts.fct_product_daily") == [(True,)]
    assert query(layout.warehouse, "select count(*) from dq.run_log where status = 'success'") == [
        (1,)
    ]
    assert layout.brief(TINY_START).exists()
    con = metrics.connect(layout.warehouse)
    try:
        assert metrics.value(con, "gmv") > 0
    finally:
        con.close()
    assert any(layout.data_docs.glob("*/index.html"))
    # its path quoted
    assert query(layout.warehouse, "select count(*) from finance.statement_register") == [(0,)]
    # issue 44: Dagster's settings load for this path too (no telemetry)
    with instance(root) as inst:
        assert not inst.telemetry_enabled and not inst.nux_enabled
    try:
        rebates_statement(layout, dt.date(2024, 7, 1))
    except Exception as exc:  # nothing final after one night: refused in words, not a parser error
        assert "not final" in str(exc) or "no rebates" in str(exc), exc

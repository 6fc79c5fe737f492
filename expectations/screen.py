"""One GX validation for the same gate of many ingests (a backfill), when all of them pass.

GX's cost is per expectation, not per row: about 20 ms each to build its metric graph,
so thirty nights of the same forty raw-gate expectations cost thirty times one night. One
validation of the thirty nights' frames side by side says whether every one passes: each
frame is tagged with its ingest, an expectation about one night as a whole (a unique
column, a row count) is asked per ingest, and every other one is about single rows
anyway. This can only be stricter than the nights one by one, never more lenient.

Anything at all found — an error or a warning — and the caller judges night by night, as
a single night is judged, so findings, their sentences and their pages are exactly a
night's. When all pass, each night's result and data-docs page say what its own
validation would have said (tested: ``tests/integration/test_gates.py``).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import pandas as pd

from expectations import docs_site
from expectations.runner import ERROR, Check, GateResult, docs_entry, validate

INGEST = "_ingest"
_ROW_WISE = (
    gxe.ExpectColumnValuesToNotBeNull,
    gxe.ExpectColumnValuesToBeInSet,
    gxe.ExpectColumnValuesToBeBetween,
    gxe.ExpectColumnPairValuesToBeEqual,
)
_ROW_COUNTS = (gxe.ExpectTableRowCountToBeBetween, gxe.ExpectTableRowCountToEqual)


def _signature(check: Check) -> tuple:
    return check.name, tuple(
        (
            type(e),
            tuple(sorted(e.configuration.kwargs.items(), key=str)),
            (e.meta or {}).get("severity", ERROR),
        )
        for e in check.expectations
    )


def _per_ingest(name: str, checks: Mapping[Any, Check]) -> list[Check] | None:
    """The checks of one name over every ingest, as one frame; None when one of its
    expectations cannot be asked of several ingests at once."""
    first = next(iter(checks.values()))
    tagged = [c.frame.assign(**{INGEST: str(k)}) for k, c in checks.items()]
    # all-NA columns (a median not known yet) may be typed either way: no check reads them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        frame = pd.concat([f for f in tagged if len(f)] or tagged[:1], ignore_index=True)
    rows: list = []
    counts: list = []
    for e in first.expectations:
        # a share of rows is not a share of each night's
        if getattr(e, "mostly", 1) not in (None, 1):
            return None
        if isinstance(e, gxe.ExpectColumnValuesToBeUnique):  # unique within each night
            rows.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=[INGEST, e.column]))
        elif isinstance(e, gxe.ExpectTableRowCountToBeBetween):
            counts.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column="rows", min_value=e.min_value, max_value=e.max_value
                )
            )
        elif isinstance(e, gxe.ExpectTableRowCountToEqual):
            counts.append(gxe.ExpectColumnValuesToBeInSet(column="rows", value_set=[e.value]))
        elif isinstance(e, _ROW_WISE):
            rows.append(copy.deepcopy(e))
        else:
            return None
    together = [Check(name, frame, rows)]
    if counts:
        sizes = pd.DataFrame(
            {INGEST: [str(k) for k in checks], "rows": [len(c.frame) for c in checks.values()]}
        )
        together.append(Check(f"{name}_rows", sizes, counts))
    return together


def all_pass(gate: str, checks_by_ingest: Mapping[Any, list[Check]]) -> bool:
    """Whether every check of every ingest passes without a finding (error or warning),
    from one validation. False also when the ingests' checks differ (names, expectations,
    arguments or severities): then they are judged one by one."""
    lists = list(checks_by_ingest.values())
    if not lists or any(
        [_signature(c) for c in checks] != [_signature(c) for c in lists[0]] for checks in lists[1:]
    ):
        return False
    together: list[Check] = []
    for i, check in enumerate(lists[0]):
        combined = _per_ingest(check.name, {k: checks[i] for k, checks in checks_by_ingest.items()})
        if combined is None:
            return False
        together += combined
    result, _ = validate(gate, together)
    return not result.findings


def passed(gate: str, run_key: str, checks: list[Check], docs_root: Path) -> GateResult:
    """The result and data-docs page of one ingest's checks that ``all_pass`` found passing:
    what ``run_gate`` records for them (every expectation evaluated and met)."""
    entries = []
    for check in checks:
        for e in check.expectations:
            # GX observes a row count, and counts no unexpected rows
            table_level = isinstance(e, _ROW_COUNTS)
            entries.append(
                docs_entry(
                    check,
                    e.configuration,
                    (e.meta or {}).get("severity", ERROR),
                    success=True,
                    summary="",
                    unexpected_count=None if table_level else 0,
                    observed=len(check.frame) if table_level else None,
                    examples=[],
                )
            )
    out = GateResult(gate=gate, evaluated=len(entries))
    out.docs = str(docs_site.record(Path(docs_root), run_key, gate, entries))
    return out

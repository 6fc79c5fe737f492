"""Issuing into the finance ledger: a final statement closes its period (issue 43, D46).

* **Closing.** A final statement's lines are kept as issued (finance.issued_lines) and its
  period — a month of rebates, a range of close dates — is closed: no other final
  statement of that kind may cover it, and its lines are never issued differently.
* **Re-issue.** The same period again gives the very files that were issued, byte for
  byte, while the warehouse still agrees with them; once a figure differs the re-issue is
  refused in one line naming the adjustment route (``fullsite report adjustments``).
* **Evidence.** The files are kept as issued in the data root, read-only, and the
  register row — appended last, under the ledger's lock — holds their hashes and chains
  to the row before (fullsite/ledger.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fullsite import ledger
from fullsite.files import write_atomic
from fullsite.layout import Layout
from publications.published import NotPublished, has_table


class Closed(Exception):
    """A period that is closed and cannot be issued again as asked (one line, exit 2)."""


@dataclass
class Draft:
    """A statement ready to issue: its files, its manifest (without its place in the
    register), its register row (without the chain) and, if final, the lines it closes."""

    kind: str
    stem: str
    period_said: str
    period: tuple[dt.date, dt.date]
    provisional: bool
    files: dict[str, bytes]
    manifest: dict
    row: dict
    lines: list[dict]
    closes: bool = True  # a final statement closes its period; an adjustment statement does not


@dataclass(frozen=True)
class Issued:
    manifest: dict
    reissued: bool  # the same statement again: the files as issued, unchanged


def current_lines(con, kind: str, period: tuple[dt.date, dt.date]) -> list[dict]:
    """The lines a final statement of ``kind`` over ``period`` holds now (dbt's
    finance.statement_lines: one owner of what a statement line is)."""
    if not has_table(con, "finance.statement_lines"):
        raise NotPublished(
            "the published warehouse has no finance.statement_lines (built by an "
            "older version): run the pipeline once more"
        )
    rows = con.execute(
        """select line_key, merchant_id, money_column, value
                          from finance.statement_lines
                          where statement_kind = ? and period_date between ? and ?
                          order by line_key, money_column""",
        [kind, *period],
    ).fetchall()
    return [{"line_key": k, "merchant_id": m, "money_column": c, "value": v} for k, m, c, v in rows]


def check_lines(lines: list[dict], totals: dict[str, Decimal]) -> None:
    """The control: the lines closed add up to the statement's own totals, column by column."""
    for column, total in totals.items():
        held = sum((x["value"] for x in lines if x["money_column"] == column), Decimal("0.00"))
        if held != total:
            raise NotPublished(
                f"the lines of {column} add up to {held}, the statement to {total}: "
                "nothing was issued"
            )


def issue(layout: Layout, draft: Draft, out: Path) -> Issued:
    """Issue ``draft`` into the ledger and write its files into ``out`` — or, for a closed
    period asked again, write the files as issued (or refuse)."""
    ledger.ensure(layout)
    with ledger.locked(layout):
        closing = (
            _closed_overlapping(layout, draft) if draft.closes and not draft.provisional else []
        )
        if closing:
            return reissue(layout, _same_statement(layout, draft, closing), out)
        lines = [
            {
                **line,
                "statement": draft.stem,
                "statement_kind": draft.kind,
                "period": draft.row["period"],
                "issued_at": draft.row["issued_at"],
            }
            for line in draft.lines
        ]
        done = ledger.append(layout, ledger.Issue(draft.row, lines, draft.files, draft.manifest))
    files = {**draft.files, f"{draft.stem}.manifest.json": done["manifest_bytes"]}
    _write(out, files)
    return Issued(done["manifest"], False)


def reissue(layout: Layout, entry: dict, out: Path) -> Issued:
    """An issue again: its files as they were issued, byte for byte."""
    files = _as_issued(layout, entry)
    _write(out, files)
    return Issued(json.loads(files[f"{entry['stem']}.manifest.json"]), True)


def _write(out: Path, files: dict[str, bytes]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(out / name, data)


def _closed_overlapping(layout: Layout, draft: Draft) -> list[dict]:
    first, last = draft.period
    return [
        e
        for e in ledger.entries(layout)
        if e["statement"] == draft.kind
        and not e["provisional"]
        and e["period_from"]
        and e["period_from"] <= last
        and e["period_to"] >= first
    ]


def _same_statement(layout: Layout, draft: Draft, closing: list[dict]) -> dict:
    """The closed statement ``draft`` repeats, when its lines are unchanged; else refused."""
    entry = closing[0]
    when = f"issued {entry['issued_at']:%Y-%m-%d %H:%M} UTC, register row {entry['seq']}"
    if entry["stem"] != draft.stem or len(closing) > 1:
        raise Closed(
            f"{draft.kind} {draft.period_said} overlaps {entry['stem']} ({when}), whose "
            f"period {entry['period_from']} … {entry['period_to']} is closed: issue a "
            "period that does not overlap it"
        )
    issued = {
        (x["line_key"], x["money_column"]): x["value"] for x in ledger.lines(layout, entry["seq"])
    }
    now = {(x["line_key"], x["money_column"]): x["value"] for x in draft.lines}
    changed = {key[0] for key in issued.keys() | now.keys() if issued.get(key) != now.get(key)}
    if changed:
        lines = f"{len(changed)} of its lines " + ("has" if len(changed) == 1 else "have")
        raise Closed(
            f"{entry['stem']} is closed ({when}) and {lines} changed since: a closed line "
            "is never issued differently; issue the "
            "differences as adjustments: fullsite report adjustments --data-root "
            f"{shlex.quote(str(layout.root))}"
        )
    return entry


def _as_issued(layout: Layout, entry: dict) -> dict[str, bytes]:
    """The files of a register row as they were issued (the manifest included)."""
    folder = ledger.archive(layout, entry["seq"], entry["stem"])
    names = [*json.loads(entry["files"]), f"{entry['stem']}.manifest.json"]
    return {name: (folder / name).read_bytes() for name in names}

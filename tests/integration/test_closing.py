"""Period close (issue 43, D46): issued lines never change; every later difference is an
adjustment with its reason; history restated upstream flows in through write–audit–publish;
a register no one can quietly rewrite.

One scenario, as a finance team lives it, on a copy of the shared next night (July final),
with the slow tests (two nights in processes of their own, a fresh backfill beside):
July's rebates are issued; the SME rates are corrected retroactively (a copy of the dbt
project) and the next night runs with them; July is asked for again; the adjustments are
issued; upstream re-sends the clicks of 2024-07-30 and the data root is restated from there.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from fullsite import landing, ledger
from fullsite.layout import Layout
from tests.conftest import LATER, PUBLISHED, copy_root
from tests.published import query, table_digest
from tests.restating import RATE_FILE, RESTATED_INGEST, rewrite_clicks, rewrite_saves
from tests.runs import cli, night

JULY = dt.date(2024, 7, 1)
# Published tables that depend on the data root's own history, not on its raw zone.
# The build's own records (when and from what it was built, the parts of its content
# fingerprint, the adjustments' among them) and the adjustments, which have a history of
# their own: they differ from a fresh backfill's by design.
OWN_HISTORY = {
    "finance.adjustments",
    "params.warehouse_build",
    "params.warehouse_build_files",
    "params.warehouse_content",
}


@dataclass
class Scenario:
    root: Path
    steps: dict = field(default_factory=dict)  # CLI call → its CompletedProcess
    seen: dict = field(default_factory=dict)  # what the warehouse said at a step

    def files(self, folder: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((self.root.parent / folder).iterdir())}


def _adjustments(root: Path, status: str = "open") -> list[dict]:
    cols = [
        "statement",
        "line_key",
        "money_column",
        "issued_value",
        "current_value",
        "delta",
        "reason",
        "first_seen_night",
        "adjustment_statement",
    ]
    rows = query(
        root / "warehouse.duckdb",
        f"select {', '.join(cols)} from finance.adjustments where status = '{status}' order by all",
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _known_july(root: Path) -> dict[tuple, Decimal]:
    rows = query(
        root / "warehouse.duckdb",
        """select line_key, money_column, value from finance.statement_lines
                                               where statement_kind = 'rebates' and period_date =
                                                   DATE '2024-07-01'""",
    )
    return {(k, c): v for k, c, v in rows}


@pytest.fixture(scope="module")
def scenario(next_night_root, corrected_rules, tmp_path_factory) -> Scenario:
    """Night: made here, on a copy of the shared next night; the later nights run with the
    corrected rules (FULLSITE_DBT_PROJECT), each as an operator runs it."""
    root = copy_root(next_night_root, tmp_path_factory.mktemp("closing") / "root")
    rules = {"FULLSITE_DBT_PROJECT": str(corrected_rules)}
    run = Scenario(root)
    july = ["report", "rebates", "--data-root", str(root), "--month", "2024-07"]
    run.steps["issued"] = cli(*july, "--out", str(root.parent / "issued"))
    run.steps["again"] = cli(*july, "--out", str(root.parent / "again"))
    run.seen["issued lines"] = ledger.lines(Layout(root), 1)
    run.steps["corrected night"] = cli(
        "run", "--data-root", str(root), "--date", str(LATER), env=rules
    )
    run.seen["after rules"] = _adjustments(root)
    run.seen["known after rules"] = _known_july(root)
    run.steps["july refused"] = cli(*july, "--out", str(root.parent / "refused"))
    run.steps["adjusted"] = cli(
        "report", "adjustments", "--data-root", str(root), "--out", str(root.parent / "adj")
    )
    run.steps["status after"] = cli("status", "--data-root", str(root), "--json")
    run.seen["clicks"] = rewrite_clicks(root)
    run.steps["restated"] = cli(
        "restate", "--data-root", str(root), "--from", str(RESTATED_INGEST), env=rules
    )
    run.seen["after restatement"] = _adjustments(root)
    run.seen["known after restatement"] = _known_july(root)
    run.steps["adjusted again"] = cli(
        "report", "adjustments", "--data-root", str(root), "--out", str(root.parent / "adj2")
    )
    for name, done in run.steps.items():
        if name not in ("july refused",):
            assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
    return run


@pytest.mark.slow
def test_a_final_statement_issued_again_unchanged_gives_the_same_bytes(scenario):
    assert scenario.files("issued") == scenario.files("again")
    assert "already issued (register row 1) and unchanged" in scenario.steps["again"].stdout
    assert [e["stem"] for e in ledger.entries(Layout(scenario.root))][:2] == [
        "rebates-2024-07",
        "adjustments-2024-08-03",
    ]


@pytest.mark.slow
def test_a_corrected_rule_becomes_exact_adjustments_naming_the_rule(scenario):
    issued = {(x["line_key"], x["money_column"]): x["value"] for x in scenario.seen["issued lines"]}
    known = scenario.seen["known after rules"]
    expected = {
        key: known.get(key, Decimal("0.00")) - issued.get(key, Decimal("0.00"))
        for key in issued.keys() | known.keys()
    }
    found = {(a["line_key"], a["money_column"]): a for a in scenario.seen["after rules"]}
    # every difference, nothing else
    assert found and set(found) == {k for k, delta in expected.items() if delta}
    for key, a in found.items():
        assert a["delta"] == expected[key] == a["current_value"] - a["issued_value"], key
        assert a["statement"] == "rebates-2024-07" and a["first_seen_night"] == LATER
        assert a["reason"] == f"rules changed ({RATE_FILE})"
    assert {c for _, c in found} == {"rebate_amount"}  # a rate: the base stays, the amount moves


@pytest.mark.slow
def test_a_closed_period_is_never_issued_differently(scenario):
    refused = scenario.steps["july refused"]
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert (
        "rebates-2024-07 is closed" in refused.stderr
        and "fullsite report adjustments --data-root" in refused.stderr
    )
    assert not (scenario.root.parent / "refused").exists()  # nothing written
    archived = ledger.archive(Layout(scenario.root), 1, "rebates-2024-07")
    # as issued, still
    assert {p.name: p.read_bytes() for p in archived.iterdir()} == scenario.files("issued")


@pytest.mark.slow
def test_the_adjustment_statement_ties_out(scenario):
    out = scenario.root.parent / "adj"
    lines = list(csv.DictReader(open(out / "adjustments-2024-08-03.csv")))
    body, total = lines[:-1], lines[-1]
    assert len(body) == len(scenario.seen["after rules"]) and total["statement"] == "TOTAL"
    for line in body:  # issued + adjusted = as known, line by line
        assert Decimal(line["issued_value"]) + Decimal(line["delta"]) == Decimal(
            line["current_value"]
        )
        assert line["statement"] == "rebates-2024-07" and line["statement_seq"] == "1"
    assert Decimal(total["payable_delta"]) == sum(Decimal(x["payable_delta"]) for x in body)
    notes = {
        r[0].value: r[1].value
        for r in load_workbook(out / "adjustments-2024-08-03.xlsx")["Notes"].iter_rows()
    }
    issued = sum(
        x["value"] for x in scenario.seen["issued lines"] if x["money_column"] == "rebate_amount"
    )
    known = sum(
        v for (_, c), v in scenario.seen["known after rules"].items() if c == "rebate_amount"
    )
    assert notes["Net: rebates-2024-07"] == (
        f"rebate_amount: issued {issued:,.2f} + adjusted here "
        f"{known - issued:+,.2f} = {known:,.2f}, as known in this build"
    )
    status = json.loads(scenario.steps["status after"].stdout)
    assert status["open_adjustments"] == []  # issued: not open any more, before the next night
    manifest = json.loads((out / "adjustments-2024-08-03.manifest.json").read_text())
    assert manifest["corrects"] == ["rebates-2024-07"] and manifest["register"]["seq"] == 2


@pytest.mark.slow
def test_restated_history_flows_in_as_exact_adjustments_naming_the_files(scenario):
    path, rows = scenario.seen["clicks"]
    held = {(x["line_key"], x["money_column"]): x["value"] for x in scenario.seen["issued lines"]}
    for a in scenario.seen["after rules"]:  # issued, then adjusted once
        held[(a["line_key"], a["money_column"])] += a["delta"]
    known = scenario.seen["known after restatement"]
    found = {(a["line_key"], a["money_column"]): a for a in scenario.seen["after restatement"]}
    expected = {
        k: known.get(k, Decimal("0.00")) - held.get(k, Decimal("0.00"))
        for k in held.keys() | known.keys()
    }
    assert found and set(found) == {k for k, delta in expected.items() if delta}
    for key, a in found.items():
        assert a["delta"] == expected[key] and a["first_seen_night"] == LATER, key
        assert (
            a["reason"]
            == f"raw history restated (clicks dt={RESTATED_INGEST}: {path.name} rewritten, "
            f"{rows:,} rows)"
        )
    # doubled costs: more spend, a bigger base
    assert {c for _, c in found} >= {
        "spend",
        "rebate_base",
    }
    second = list(
        csv.DictReader(open(scenario.root.parent / "adj2" / "adjustments-2024-08-03-2.csv"))
    )[:-1]
    assert {(x["line_key"], x["money_column"]) for x in second} == set(found)


@pytest.mark.slow
def test_a_restated_warehouse_equals_a_fresh_backfill_of_the_same_raw_zone(
    scenario, restated_fresh
):
    fresh = restated_fresh.finished()
    tables = query(
        scenario.root / "warehouse.duckdb",
        """select schema_name || '.' || table_name from duckdb_tables()
                                                         where schema_name in ('marts', 'finance',
                                                             'dq', 'params')
                                                         order by 1""",
    )
    compared = [t for (t,) in tables if t not in OWN_HISTORY]
    assert len(compared) > 20 and "finance.merchant_rebates_monthly" in compared
    differing = [
        t
        for t in compared
        if table_digest(scenario.root / "warehouse.duckdb", t)
        != table_digest(fresh / "warehouse.duckdb", t)
    ]
    assert differing == []


def test_rerunning_the_last_night_with_its_own_files_changed_is_a_named_restatement(
    scratch_root, spark
):
    """Night: a copy of the shared published root, whose last night is run again after
    upstream rewrote one of its files."""
    layout = Layout(scratch_root)
    path = rewrite_saves(scratch_root, PUBLISHED)
    rows = pq.ParquetFile(path).metadata.num_rows
    records = night(scratch_root, PUBLISHED)
    item = f"saves dt={PUBLISHED}: {path.name} rewritten, {rows:,} rows"
    assert f"raw warning: restated: {item}" in records[-1]["message"]
    assert [r["item"] for r in ledger.recorded_changes(layout) if r["kind"] == "raw"] == [item]
    # the record follows the file now
    assert landing.processed_changes(layout, PUBLISHED, PUBLISHED) == []


# ----------------------------------------------------------------------------- the register


@pytest.fixture(scope="module")
def issuing_root(next_night_root, tmp_path_factory) -> Path:
    """Night: the shared next night, copied (issuing appends to its ledger)."""
    return copy_root(next_night_root, tmp_path_factory.mktemp("register") / "root")


def test_concurrent_issues_each_leave_their_row_and_the_chain_holds(issuing_root, tmp_path):
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orchestration.cli",
                "report",
                "rebates",
                "--data-root",
                str(issuing_root),
                "--month",
                "2024-08",
                "--provisional",
                "--out",
                str(tmp_path / str(k)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        for k in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    rows = ledger.entries(Layout(issuing_root))
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert ledger.check_chain(Layout(issuing_root)) is None
    verified = cli("report", "verify", "--data-root", str(issuing_root))
    assert verified.returncode == 0 and "register intact: 4 rows" in verified.stdout


def test_a_changed_register_row_is_found_and_names_its_row(issuing_root, tmp_path):
    root = copy_root(issuing_root, tmp_path / "root")
    row_file = Layout(root).statement_register / "000002.parquet"
    table = pq.read_table(row_file)
    forged = json.loads(table["files"][0].as_py())
    forged[next(iter(forged))] = "0" * 64  # one file's SHA-256, as an editor would change it
    os.chmod(row_file, 0o644)
    pq.write_table(
        table.set_column(table.schema.get_field_index("files"), "files", [[json.dumps(forged)]]),
        row_file,
    )
    result = cli("report", "verify", "--data-root", str(root))
    assert result.returncode == 1, result.stdout
    assert (
        result.stdout.strip()
        == "register altered at row 2: its content does not match its row_sha256"
    )


def test_a_removed_register_row_is_found(issuing_root, tmp_path):
    root = copy_root(issuing_root, tmp_path / "root")
    (Layout(root).statement_register / "000002.parquet").unlink()
    result = cli("report", "verify", "--data-root", str(root))
    assert result.returncode == 1 and result.stdout.strip() == (
        "register altered at row 2: row 2 is missing (the next row found is number 3)"
    )


def test_a_changed_file_as_issued_is_found(issuing_root, tmp_path):
    root = copy_root(issuing_root, tmp_path / "root")
    layout = Layout(root)
    entry = ledger.entries(layout)[2]
    name = next(iter(json.loads(entry["files"])))
    archived = ledger.archive(layout, 3, entry["stem"]) / name
    os.chmod(archived, 0o644)
    archived.write_bytes(archived.read_bytes() + b" ")
    result = cli("report", "verify", "--data-root", str(root))
    assert result.returncode == 1 and result.stdout.strip() == (
        f"register altered at row 3: its file {name} as issued is missing or changed"
    )

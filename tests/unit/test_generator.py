"""The synthetic landing zone follows the data contract and is dirty on purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from fullsite.contract import DAILY_TABLES, EVENT_TABLES, REASONS_BY_TABLE, SCHEMAS
from fullsite.generator.run import generate
from tests.conftest import TINY_DAYS, TINY_START

DATES = [TINY_START + dt.timedelta(days=k) for k in range(TINY_DAYS)]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_same_seed_gives_the_same_bytes(tmp_path, tiny_raw):
    generate(tmp_path, TINY_START, TINY_DAYS, "tiny", seed=7)
    assert _digest(tmp_path) == _digest(tiny_raw)


def test_another_seed_gives_other_data(tmp_path, tiny_raw):
    generate(tmp_path, TINY_START, 2, "tiny", seed=8)
    first = "raw/clicks/dt=2024-07-28/part-0000.parquet"
    assert (tmp_path / first).read_bytes() != (tiny_raw / first).read_bytes()


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_files_carry_exactly_the_contract_schema(tiny_raw, table):
    files = sorted((tiny_raw / "raw" / table).glob("dt=*/*.parquet"))
    assert files
    for f in files:
        schema = pq.read_schema(f)
        assert schema.names == SCHEMAS[table].names
        assert [fld.type for fld in schema] == [fld.type for fld in SCHEMAS[table]]
        parquet_schema = pq.ParquetFile(f).schema
        for i, fld in enumerate(schema):
            logical = str(parquet_schema.column(i).logical_type)
            if str(fld.type).startswith("timestamp"):
                assert "isAdjustedToUTC=true" in logical and "microseconds" in logical
            if fld.name in ("cost", "amount", "price", "daily_budget"):
                assert "Decimal(precision=18, scale=2)" in logical
            if fld.name == "target_roi":
                assert "Decimal(precision=10, scale=2)" in logical


@pytest.mark.parametrize("table", DAILY_TABLES + EVENT_TABLES)
def test_every_table_has_a_partition_every_day(tiny_raw, table):
    present = sorted(p.name for p in (tiny_raw / "raw" / table).glob("dt=*"))
    assert present == [f"dt={d}" for d in DATES]


def test_snapshots_are_full_and_keyed(tiny_raw):
    con = duckdb.connect()
    for table, key in (("merchants", "merchant_id"), ("products", "product_id")):
        rows = con.sql(f"""select dt, count(*) n, count(distinct {key}) k
                           from read_parquet('{tiny_raw}/raw/{table}/*/*.parquet',
                               hive_partitioning=true)
                           group by dt""").fetchall()
        assert len(rows) == TINY_DAYS and all(n == k and n > 0 for _, n, k in rows)
    orphan = con.sql(f"""select count(*) from read_parquet('{tiny_raw}/raw/products/*/*.parquet',
                         hive_partitioning=true) p
        anti join read_parquet('{tiny_raw}/raw/merchants/*/*.parquet', hive_partitioning=true) m
        on p.merchant_id = m.merchant_id and p.dt = m.dt""").fetchone()[0]
    assert orphan == 0


def test_campaign_change_log_obeys_the_action_order(tiny_raw):
    con = duckdb.connect()
    rows = con.sql(f"""select campaign_id, action, change_time, change_id, product_id,
                              (change_time at time zone 'Asia/Shanghai')::date bd, dt
                       from read_parquet('{tiny_raw}/raw/campaign_changes/*/*.parquet',
                           hive_partitioning=true)
                       order by campaign_id, change_time, change_id""").fetchall()
    assert rows
    state: dict[str, str] = {}
    live_product: dict[str, str] = {}
    actions = set()
    for campaign, action, _, _, product, bd, dt_ in rows:
        actions.add(action)
        assert str(bd) == str(dt_), "campaign changes are never late"
        before = state.get(campaign)
        if before is None:
            assert action == "create"
        else:
            assert before != "ended", "nothing follows end"
            assert action != "create"
            if action == "pause":
                assert before == "running"
            if action == "resume":
                assert before == "paused"
        state[campaign] = {
            "create": "running",
            "resume": "running",
            "pause": "paused",
            "end": "ended",
            "update": before or "running",
        }[action]
        live_product[campaign] = product
    assert actions == {"create", "update", "pause", "resume", "end"}
    ids = con.sql(
        f"select count(*) = count(distinct change_id) from "
        f"read_parquet('{tiny_raw}/raw/campaign_changes/*/*.parquet')"
    ).fetchone()[0]
    assert ids


def test_one_live_campaign_per_product(tiny_raw):
    con = duckdb.connect()
    overlapping = con.sql(f"""
        with c as (select * from read_parquet('{tiny_raw}/raw/campaign_changes/*/*.parquet')),
        life as (select campaign_id, any_value(product_id) product_id,
                        min(change_time) filter (action = 'create') born,
                        coalesce(max(change_time) filter (action = 'end'),
                            'infinity'::timestamptz) died
                 from c group by 1)
        select count(*) from life a join life b on a.product_id = b.product_id and a.campaign_id <
            b.campaign_id
        where a.born < b.died and b.born < a.died""").fetchone()[0]
    assert overlapping == 0


# A predicate per quarantine reason that only rows failing that check satisfy.
REASON_SQL = {
    "missing_required": "user_id is null",
    "bad_enum": "{enum} not in ({values})",
    "negative_amount": "{money} <= 0 and {money_strict}",
    "bad_quantity": "quantity < 1",
    "paid_flag_mismatch": "is_paid <> (campaign_id is not null)",
    "natural_click_cost": "campaign_id is null and not is_paid and cost > 0",
    "unknown_product": "product_id = 'P-UNKNOWN'",
    "unknown_campaign": "campaign_id = 'C-UNKNOWN'",
    "future_event": "(event_time at time zone 'Asia/Shanghai')::date > dt",
    "too_late": "(event_time at time zone 'Asia/Shanghai')::date < dt - interval 2 day",
}


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_every_quarantine_reason_occurs(tiny_raw, table):
    con = duckdb.connect()
    idc = "order_id" if table == "purchases" else "event_id"
    src = f"read_parquet('{tiny_raw}/raw/{table}/*/*.parquet', hive_partitioning=true)"
    for reason in REASONS_BY_TABLE[table]:
        if reason == "conflicting_duplicate":
            sql = (
                f"select count(*) from (select {idc} from {src} group by 1 "
                f"having count(distinct {src_hash(table)}) > 1)"
            )
        else:
            pred = REASON_SQL[reason].format(
                enum="save_type" if table == "saves" else "scene",
                values="'favorite','cart'"
                if table == "saves"
                else "'search','recommend','activity'",
                money="cost" if table == "clicks" else "amount",
                money_strict="cost < 0" if table == "clicks" else "true",
            )
            sql = f"select count(*) from {src} where {pred}"
        assert con.sql(sql).fetchone()[0] > 0, f"{table}: no row for {reason}"


def src_hash(table: str) -> str:
    return "hash(" + ", ".join(SCHEMAS[table].names) + ")"


def test_identical_redeliveries_and_late_rows_exist(tiny_raw):
    con = duckdb.connect()
    src = f"read_parquet('{tiny_raw}/raw/clicks/*/*.parquet', hive_partitioning=true)"
    same, later = con.sql(f"""select count(*) filter (n_dt = 1), count(*) filter (n_dt > 1) from (
        select event_id, count(distinct dt) n_dt from {src} group by event_id,
            {src_hash("clicks")} having count(*) > 1)""").fetchone()
    assert same > 0 and later > 0
    lags = {
        r[0]
        for r in con.sql(
            f"select distinct dt - (event_time at time zone 'Asia/Shanghai')::date from {src}"
        ).fetchall()
    }
    assert {0, 1, 2} <= lags and max(lags) >= 3
    edges = {
        r[0]
        for r in con.sql(f"""select strftime(event_time at time zone 'Asia/Shanghai', '%H:%M:%S')
                             from {src}
        where strftime(event_time at time zone 'Asia/Shanghai', '%H:%M:%S') in ('00:00:00',
            '23:59:59')""").fetchall()
    }
    assert edges == {"00:00:00", "23:59:59"}
    invalid_with_cost = con.sql(
        f"select count(*) from {src} where is_invalid and cost > 0"
    ).fetchone()[0]
    assert invalid_with_cost > 0


def test_quarantine_share_stays_below_the_gate_threshold(tiny_raw):
    """Dirty, but not so dirty that a healthy night fails the raw gate (1 % and 20 rows)."""
    con = duckdb.connect()
    src = f"read_parquet('{tiny_raw}/raw/impressions/*/*.parquet', hive_partitioning=true)"
    worst = con.sql(f"""select max(bad) from (select dt, count(*) filter (
        user_id is null or scene not in ('search','recommend','activity') or product_id =
            'P-UNKNOWN'
        or campaign_id = 'C-UNKNOWN' or is_paid <> (campaign_id is not null)) / count(*) bad from
            {src} group by dt)""").fetchone()[0]
    assert worst < 0.01


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "2024-7-1", "--days", "1"], "--start must be a date"),
        (["--start", "2024-07-01", "--days", "1", "--scale", "huge"], "unknown scale"),
        (["--start", "2024-07-01", "--days", "0"], "--days must be at least 1"),
        (["--days", "1"], "--start is required (or --continue"),
        (["--continue", "--days", "1"], "no generator state in"),
    ],
)
def test_generate_rejects_bad_arguments_in_one_line(tmp_path, args, message):
    (tmp_path / "raw").mkdir(exist_ok=True)
    result = _cli("generate", "--data-root", str(tmp_path), *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_generate_rejects_an_unwritable_data_root(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = _cli(
        "generate",
        "--data-root",
        str(blocker / "sub"),
        "--start",
        "2024-07-01",
        "--days",
        "1",
        "--scale",
        "tiny",
    )
    assert result.returncode != 0 and "cannot write to data root" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def small_days(tmp_path_factory):
    """Three days at the demo's scale (small), seed 7: the calibrated economics in raw data."""
    root = tmp_path_factory.mktemp("small")
    counts = generate(root, dt.date(2024, 7, 5), 3, "small", seed=7)
    return root, counts


def test_a_scale_lands_its_events_per_day(small_days):
    """Row counts per scale do not move with the calibration: the four event tables land
    the scale's events a day, less the late rows still on their way (docs/generator.md)."""
    from fullsite.generator.scales import SCALES

    _, counts = small_days
    per_day = sum(counts[t] for t in EVENT_TABLES) / 3
    assert 0.96 * SCALES["small"].events_per_day <= per_day <= SCALES["small"].events_per_day


def test_the_raw_economics_fall_in_their_documented_ranges(small_days):
    from fullsite.generator.calibration import CHEAP_CATEGORIES, DEAR_CATEGORIES, EXPECTED

    root, _ = small_days
    con = duckdb.connect()

    def src(t):
        return f"read_parquet('{root}/raw/{t}/*/*.parquet', hive_partitioning=true)"

    (cpc,) = con.sql(
        f"select median(cost) from {src('clicks')} where is_paid and not is_invalid and cost > 0"
    ).fetchone()
    (ctr,) = con.sql(
        f"select (select count(*) from {src('clicks')}) / (select count(*) from "
        f"{src('impressions')})"
    ).fetchone()
    (cvr,) = con.sql(f"""select (select count(*) from {src("purchases")})
                             / (select count(*) from {src("clicks")} where not
                                 is_invalid)""").fetchone()
    (order,) = con.sql(f"select median(amount) from {src('purchases')} where amount > 0").fetchone()
    for name, value in (
        ("median_cpc", cpc),
        ("ctr", ctr),
        ("cvr", cvr),
        ("median_order_amount", order),
    ):
        low, high = EXPECTED[name]
        assert low <= float(value) <= high, (name, value)
    price = dict(
        con.sql(f"select category, median(price) from {src('products')} group by 1").fetchall()
    )
    assert max(price[c] for c in CHEAP_CATEGORIES) < min(price[c] for c in DEAR_CATEGORIES), price
    # Search clicks cost more than feed clicks; a campaign's budget binds on some days, not all.
    by_scene = dict(
        con.sql(f"""select scene, median(cost) from {src("clicks")} where is_paid and not is_invalid
                                group by 1""").fetchall()
    )
    assert by_scene["search"] > by_scene["recommend"]
    (bound,) = con.sql(f"""
        with budget as (select campaign_id, max_by(daily_budget, change_time) as budget from
            {src("campaign_changes")}
                        group by 1),
        spent as (select campaign_id, (event_time at time zone 'Asia/Shanghai')::date as day,
            sum(cost) as spend
                  from {src("clicks")} where is_paid and not is_invalid group by 1, 2)
        select avg((spend >= 0.9 * budget)::int) from spent join budget using
            (campaign_id)""").fetchone()
    low, high = EXPECTED["budget_bound_share"]
    assert low <= bound <= high, bound


def test_brands_outspend_high_potential_merchants_who_outspend_smes(small_days):
    root, _ = small_days
    con = duckdb.connect()
    spend = dict(
        con.sql(f"""
        with m as (select merchant_id, merchant_tier from
            read_parquet('{root}/raw/merchants/dt=2024-07-05/*.parquet')),
        p as (select product_id, merchant_id from
            read_parquet('{root}/raw/products/dt=2024-07-05/*.parquet')),
        c as (select product_id, sum(cost) as spend from
            read_parquet('{root}/raw/clicks/*/*.parquet')
              where is_paid and not is_invalid group by 1)
        select merchant_tier, sum(spend) / count(distinct merchant_id) from m join p using
            (merchant_id)
        join c using (product_id) group by 1""").fetchall()
    )
    assert spend["brand"] > spend["high_potential"] > spend["sme"], spend


def test_the_next_nights_of_a_world_land_the_same_however_they_are_asked_for(tmp_path):
    """Issue 44: an operator rehearses a normal night by landing the next one of the data
    root's own world (`fullsite generate --continue`); the nights before stay as they were."""
    from fullsite.generator.run import generate_next

    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        generate(root, TINY_START, 3, "tiny", seed=7)
    before = _digest(one)
    generate_next(one, 2)
    generate_next(two, 1)
    generate_next(two, 1)
    after = _digest(one)
    assert {k: v for k, v in after.items() if k in before} == before
    assert after == _digest(two) and len(after) > len(before)
    assert any(f"dt={TINY_START + dt.timedelta(days=4)}" in k for k in after)

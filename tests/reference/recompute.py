"""A second, independent reading of the spec: every published table recomputed from the raw
zone in plain DuckDB SQL and Python, sharing no code with spark_jobs/ or dbt_project/ (only
the rule parameters, which the spec puts in one place, and the contract's column names and
enumerations from fullsite.contract), then compared with the warehouse.

    python -m tests.reference.recompute --data-root DIR --date D

prints the differing keys of each table and exits 1 when any differ. The test suite runs it
on the tiny published data root; run it by hand on a `small` 30-day root (a minute) after a
change to any rule. Deliberately naive: cleaning judges step 1 against every earlier
accepted row (no index), cumulative orders are recounted from the beginning, windows are
walked day by day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

from fullsite import rules
from fullsite.contract import (
    BUSINESS_TZ,
    BUSINESS_UTC_OFFSET_HOURS,
    EVENT_TABLES,
    ID_COLUMN,
    NULLABLE,
    SAVE_TYPES,
    SCENES,
    SCHEMAS,
)

DAY = dt.timedelta(days=1)
SHANGHAI = dt.timezone(dt.timedelta(hours=BUSINESS_UTC_OFFSET_HOURS))
BUSINESS_DATE = f"cast(timezone('{BUSINESS_TZ}', event_time) as date)"


def p(name: str):
    return rules.param(name)


def round2(x) -> Decimal:
    x = Fraction(x)
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def local_date(t: dt.datetime) -> dt.date:
    return t.astimezone(SHANGHAI).date()


def ratio(num, den) -> Fraction | None:
    """An exact ratio, null on a zero denominator (published as DOUBLE: compared with a
    tolerance)."""
    return Fraction(num) / Fraction(den) if den else None


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + k * DAY for k in range((last - first).days + 1)]


# -- cleaning (data-contract.md) ---------------------------------------------------------------
def _checks(table: str, cols: list[str]) -> list[tuple[str, str]]:
    # bad_encoding is not checked here: DuckDB cannot read text that is not UTF-8 at all
    texts = [f.name for f in SCHEMAS[table] if str(f.type) == "string"]
    out = [
        ("oversized_text", " or ".join(f"length(r.{c}) > {p('max_text_chars')}" for c in texts)),
        (
            "missing_required",
            " or ".join(f"r.{c} is null" for c in cols if (table, c) not in NULLABLE),
        ),
    ]
    if "scene" in cols:
        out.append(("bad_enum", f"r.scene not in {SCENES}"))
    if table == "saves":
        out.append(("bad_enum", f"r.save_type not in {SAVE_TYPES}"))
    if table == "clicks":
        out += [
            ("negative_amount", "r.cost < 0"),
            ("implausible_amount", f"r.cost > {p('max_event_amount')}"),
        ]
    if table == "purchases":
        out += [
            ("negative_amount", "r.amount <= 0"),
            ("implausible_amount", f"r.amount > {p('max_event_amount')}"),
            ("bad_quantity", "r.quantity < 1"),
        ]
    if "is_paid" in cols:
        out.append(("paid_flag_mismatch", "r.is_paid != (r.campaign_id is not null)"))
    if table == "clicks":
        out.append(("natural_click_cost", "r.campaign_id is null and r.cost > 0"))
    out.append(
        (
            "unknown_product",
            "r.product_id not in (select product_id from products p where p.dt = r.dt)",
        )
    )
    if "campaign_id" in cols:
        out.append(
            (
                "unknown_campaign",
                "r.campaign_id is not null and r.campaign_id not in "
                "(select campaign_id from changes c where c.dt <= r.dt)",
            )
        )
    bd = BUSINESS_DATE.replace("event_time", "r.event_time")
    late = p("late_days")
    return out + [("future_event", f"{bd} > r.dt"), ("too_late", f"{bd} < r.dt - {late}")]


def clean(con, root: Path, D: dt.date) -> dict:
    """Accepted rows into table ``acc_<table>``; returns {(table, ingest_date): Counter of
    outcomes}."""
    outcomes = {}
    for table in EVENT_TABLES:
        cols, idc = SCHEMAS[table].names, ID_COLUMN[table]
        listed = ", ".join(cols)
        files = sorted(str(f) for f in (root / "raw" / table).glob("dt=*/*.parquet"))
        if files:
            con.execute(
                f"create or replace table raw as select {listed}, dt, row_number() over () rn "
                f"from read_parquet({files!r}, hive_partitioning = true) where dt <= DATE '{D}'"
            )
        else:  # no partition of this table has landed yet
            empty = SCHEMAS[table].empty_table()  # noqa: F841 — read by DuckDB's replacement scan below
            con.execute(
                f"create or replace table raw as select {listed}, DATE '{D}' dt, 0::bigint rn "
                f"from empty"
            )
        con.execute(f"create table acc_{table} as select {listed} from raw where false")
        same = " and ".join(f"r.{c} is not distinct from a.{c}" for c in cols)
        reason = (
            "case " + " ".join(f"when {c} then '{n}'" for n, c in _checks(table, cols)) + " end"
        )
        # every night's ingest date (snapshots land daily): a partition that did not land
        # is a night with no rows of that table, reconciled as zeros
        for (ingest,) in con.execute("select distinct dt from products order by 1").fetchall():
            con.execute(f"""create or replace table s1 as select r.*,
                case when a.{idc} is null then null when {same} then 'duplicate' else
                    'conflicting_duplicate' end step1
                from raw r left join acc_{table} a on a.{idc} = r.{idc} where r.dt = DATE
                    '{ingest}'""")
            con.execute(
                f"create or replace table s2 as select r.*, case when step1 is null then {reason} "
                f"end step2 from s1 r"
            )
            con.execute(f"""create or replace table s3 as select *,
                count(distinct ({listed})) over (partition by {idc}) variants,
                row_number() over (partition by {idc} order by rn) copy_no from s2 where step1 is
                    null and step2 is null""")
            out = Counter(
                dict(
                    con.execute(
                        "select step1, count(*) from s1 where step1 is not null group by 1"
                    ).fetchall()
                )
            )
            out.update(
                dict(
                    con.execute(
                        "select step2, count(*) from s2 where step2 is not null group by 1"
                    ).fetchall()
                )
            )
            for conflict, first, n in con.execute(
                "select variants > 1, copy_no = 1, count(*) from s3 group by all"
            ).fetchall():
                out[
                    "conflicting_duplicate" if conflict else "accepted" if first else "duplicate"
                ] += n
            con.execute(
                f"insert into acc_{table} select {listed} from s3 where variants = 1 and copy_no "
                f"= 1"
            )
            outcomes[(table, ingest)] = out
        con.execute(f"alter table acc_{table} add column bd date")
        con.execute(f"update acc_{table} set bd = {BUSINESS_DATE}")
    return outcomes


def dq_tables(outcomes: dict) -> dict[str, dict]:
    recon, reasons = {}, {}
    for (table, ingest), out in outcomes.items():
        quarantined = {k: v for k, v in out.items() if k not in ("accepted", "duplicate")}
        recon[(table, ingest)] = (
            sum(out.values()),
            out["accepted"],
            out["duplicate"],
            sum(quarantined.values()),
        )
        reasons.update({(table, ingest, k): v for k, v in quarantined.items()})
    return {"dq.ingest_reconciliation": recon, "dq.quarantine_summary": reasons}


# -- §1 daily facts and attribution ------------------------------------------------------------
def attribute(con) -> None:
    """``pur``: accepted purchases with the scene, paid flag and campaign of their last click."""
    hours = p("attribution_window_hours")
    # One struct per click: arg_max skips a NULL argument, and a natural click's campaign is NULL.
    con.execute(f"""create table attr as select p.order_id,
        arg_max({{'scene': c.scene, 'paid': c.is_paid, 'campaign_id': c.campaign_id}},
            (c.event_time, c.event_id)) click
        from acc_purchases p join acc_clicks c on c.user_id = p.user_id and c.product_id =
            p.product_id
         and not c.is_invalid and c.event_time <= p.event_time and c.event_time >= p.event_time -
             interval {hours} hour
        group by p.order_id""")
    con.execute("""create table pur as select p.*, coalesce(a.click.scene, 'direct') scene,
        coalesce(a.click.paid, false) paid, case when a.click.paid then a.click.campaign_id end
            paid_campaign
        from acc_purchases p left join attr a using (order_id)""")


def daily_facts(con, first: dt.date, D: dt.date, products: dict) -> dict[str, dict]:
    span = f"bd between DATE '{first}' and DATE '{D}'"
    product = con.execute(f"""with ev as (
        select product_id, bd, count(*) i, count(*) filter (where is_paid) pi, 0 c, 0 pc, 0 ic, 0
            f, 0 ca, 0 o, 0 u,
               0::decimal(18,2) g, 0::decimal(18,2) s, 0 pao, 0::decimal(18,2) pag from
                   acc_impressions group by all
        union all select product_id, bd, 0, 0, count(*) filter (where not is_invalid),
               count(*) filter (where not is_invalid and is_paid), count(*) filter (where
                   is_invalid), 0, 0, 0, 0, 0,
               coalesce(sum(cost) filter (where not is_invalid and is_paid), 0), 0, 0 from
                   acc_clicks group by all
        union all select product_id, bd, 0, 0, 0, 0, 0, count(*) filter (where save_type =
            'favorite'),
               count(*) filter (where save_type = 'cart'), 0, 0, 0, 0, 0, 0 from acc_saves group
                   by all
        union all select product_id, bd, 0, 0, 0, 0, 0, 0, 0, count(*), sum(quantity),
            sum(amount), 0,
               count(*) filter (where paid), coalesce(sum(amount) filter (where paid), 0) from pur
                   group by all)
        select product_id, bd, sum(i), sum(pi), sum(c), sum(pc), sum(ic), sum(f), sum(ca), sum(o),
            sum(u), sum(g), sum(s),
               sum(pao), sum(pag) from ev where {span} group by all""").fetchall()
    traffic = con.execute(f"""with ev as (
        select product_id, bd, scene, is_paid, count(*) i, 0 c, 0 ic, 0::decimal(18,2) s, 0 o,
            0::decimal(18,2) g
          from acc_impressions group by all
        union all select product_id, bd, scene, is_paid, 0, count(*) filter (where not is_invalid),
               count(*) filter (where is_invalid), coalesce(sum(cost) filter (where not is_invalid
                   and is_paid), 0), 0, 0
          from acc_clicks group by all
        union all select product_id, bd, scene, paid, 0, 0, 0, 0, count(*), sum(amount) from pur
            group by all)
        select product_id, bd, scene, is_paid, sum(i), sum(c), sum(ic), sum(s), sum(o), sum(g)
            from ev where {span}
        group by all""").fetchall()

    def merchant_and_category(product, d):
        return attributes_of(products, d, product)[:2]

    return {
        "marts.fct_product_daily": {
            r[:2]: merchant_and_category(*r[:2]) + tuple(r[2:]) for r in product
        },
        "marts.fct_product_traffic_daily": {r[:4]: tuple(r[4:]) for r in traffic},
    }


# -- §2–§5 campaign versions, windows, compensation, rebates -----------------------------------
def versions(con) -> list[dict]:
    out, current = [], {}
    for _cid, t, camp, merchant, product, action, budget, roi, choice, tagged in con.execute(
        "select * exclude (dt) from changes order by campaign_id, change_time, change_id"
    ).fetchall():
        v = current.get(camp)
        settings = (budget, roi, choice, tagged)
        if action == "create" or (
            action == "update" and v is not None and settings != v["settings"]
        ):
            if v is not None:
                v["valid_to"] = t
            n = v["n"] + 1 if v else 1
            v = current[camp] = dict(
                id=f"{camp}-v{n}",
                campaign=camp,
                n=n,
                merchant=merchant,
                product=product,
                valid_from=t,
                valid_to=None,
                settings=settings,
                start=local_date(t),
            )
            out.append(v)
        elif action == "end":
            v["valid_to"] = t
    return out


def version_facts(con, vs: list[dict]) -> dict:
    con.execute(
        "create table v (id varchar, campaign varchar, product varchar, vf timestamptz, vt "
        "timestamptz)"
    )
    con.executemany(
        "insert into v values (?, ?, ?, ?, ?)",
        [(v["id"], v["campaign"], v["product"], v["valid_from"], v["valid_to"]) for v in vs],
    )
    inside = "x.event_time >= v.vf and (v.vt is null or x.event_time < v.vt)"
    paid = f"v join acc_clicks x on x.campaign_id = v.campaign and x.is_paid and {inside}"
    facts = defaultdict(Counter)
    for name, sql in {
        "spend": f"select id, bd, sum(cost) from {paid} and not x.is_invalid group by all",
        "paid_clicks": f"select id, bd, count(*) from {paid} and not x.is_invalid group by all",
        "invalid_clicks": f"select id, bd, count(*) from v join acc_clicks x on x.campaign_id = "
        f"v.campaign and x.is_invalid and {inside} group by all",
        "paid_impressions": f"select id, bd, count(*) from v join acc_impressions x on "
        f"x.campaign_id = v.campaign and {inside} group by all",
        "gmv": f"select id, bd, sum(amount) from v join pur x on x.product_id = v.product and "
        f"{inside} group by all",
        "paid_attributed_gmv": f"select id, bd, sum(amount) from v join pur x on x.product_id = "
        f"v.product and x.paid_campaign = v.campaign and {inside} group by "
        f"all",
    }.items():
        for vid, d, value in con.execute(sql).fetchall():
            facts[(vid, d)][name] = value
    return facts


def campaign_tables(con, D: dt.date, vs: list[dict], merchants: dict) -> dict[str, dict]:
    facts = version_facts(con, vs)
    late, spend_days_needed, max_days = p("late_days"), p("window_spend_days"), p("window_max_days")
    trigger, min_spend = p("protection_trigger"), p("min_protected_spend")
    dim, daily, roi7, claims = {}, {}, {}, {}
    for v in vs:
        budget, target, choice, tagged = v["settings"]
        dim[v["id"]] = (
            v["campaign"],
            v["n"],
            v["merchant"],
            v["product"],
            v["valid_from"],
            v["valid_to"],
            v["start"],
            budget,
            target,
            choice,
            tagged,
        )
        last = local_date(v["valid_to"] - dt.timedelta(microseconds=1)) if v["valid_to"] else D
        for d in days(v["start"], last):
            f = facts[(v["id"], d)]
            daily[(v["id"], d)] = tuple(
                f[k]
                for k in (
                    "spend",
                    "paid_impressions",
                    "paid_clicks",
                    "invalid_clicks",
                    "gmv",
                    "paid_attributed_gmv",
                )
            ) + (ratio(f["gmv"], f["spend"]),)
        cap = v["start"] + (max_days - 1) * DAY
        spent = [d for d in days(v["start"], min(D, cap)) if facts[(v["id"], d)]["spend"] > 0][
            :spend_days_needed
        ]
        close = spent[-1] if len(spent) == spend_days_needed else cap if D >= cap else None
        ended = v["valid_to"]
        if ended is not None and (
            close is None or ended < dt.datetime.combine(close + DAY, dt.time(), SHANGHAI)
        ):
            status = "void"
        elif close is None:
            status = "open"
        else:
            status = "provisional" if close + late * DAY > D else "final"
        window = days(v["start"], close or D)  # D8: while no close date is known, the days so far
        spend = sum((facts[(v["id"], d)]["spend"] for d in window), Decimal(0))
        gmv = sum((facts[(v["id"], d)]["gmv"] for d in window), Decimal(0))
        roi = ratio(gmv, spend)
        described = (v["campaign"], v["merchant"], v["product"], v["start"], close)
        roi7[v["id"]] = described + (
            len(spent),
            spend,
            gmv,
            roi,
            target,
            ratio(roi, target) if roi is not None else None,
            status,
        )
        facts_of_claim = described + (spend, gmv, roi, target, tagged, choice)
        if status == "void":
            claims[v["id"]] = facts_of_claim + (
                False,
                "void",
                "void_settings_changed",
                Decimal("0.00"),
                local_date(ended).replace(day=1),
            )
        elif status == "final":
            triggered = gmv < trigger * target * spend
            reason = (
                "not_tagged"
                if not tagged
                else "custom_roi"
                if choice == "custom"
                else "below_min_spend"
                if spend < min_spend
                else "target_met"
                if not triggered
                else "compensated"
            )
            amount = (
                round2(Fraction(spend) - Fraction(gmv) / (Fraction(trigger) * Fraction(target)))
                if reason == "compensated"
                else Decimal("0.00")
            )
            eligible = reason in ("target_met", "compensated")
            claims[v["id"]] = facts_of_claim + (
                eligible,
                "final",
                reason,
                amount,
                close.replace(day=1),
            )
    return {
        "marts.dim_campaign_versions": dim,
        "marts.fct_campaign_daily": daily,
        "marts.campaign_roi_7d": roi7,
        "finance.compensation_claims": claims,
        "finance.merchant_rebates_monthly": rebates(con, D, vs, claims, merchants),
    }


def rebates(con, D: dt.date, vs: list[dict], claims: dict, merchants: dict) -> dict:
    owner = {v["campaign"]: v["merchant"] for v in vs}
    by_id = {v["id"]: v for v in vs}
    spend, comp = defaultdict(Decimal), defaultdict(Decimal)
    for camp, d, s in con.execute(
        "select campaign_id, bd, sum(cost) from acc_clicks where is_paid and not is_invalid "
        f"and bd <= DATE '{D}' group by all"
    ).fetchall():
        spend[(owner[camp], d.replace(day=1))] += s
    for vid, (*_, status, _, amount, month) in claims.items():
        if status == "final":
            comp[(by_id[vid]["merchant"], month)] += amount
    brackets = rules.rebate_brackets()
    out = {}
    for merchant, month in set(spend) | set(comp):
        last = (month + 32 * DAY).replace(day=1) - DAY
        tier = tier_of(merchants, last, merchant)
        base = max(Decimal(0), spend[(merchant, month)] - comp[(merchant, month)])
        effective = max(
            b.effective_from
            for b in brackets
            if b.merchant_tier == tier and b.effective_from <= str(month)
        )
        reached = [
            b
            for b in brackets
            if b.merchant_tier == tier and b.effective_from == effective and b.min_base <= base
        ]
        rate = max(reached, key=lambda b: b.min_base).rebate_rate if reached else Decimal(0)
        status = "final" if D >= last + p("rebate_final_lag_days") * DAY else "provisional"
        out[(merchant, month)] = (
            tier,
            spend[(merchant, month)],
            comp[(merchant, month)],
            base,
            rate,
            round2(base * rate),
            status,
        )
    return out


# -- §6–§9 lifecycle, tags, uplift, plan quota -------------------------------------------------
def as_of(snapshots: dict, d: dt.date) -> dict:
    """The snapshot of ``d`` or the latest before it (the first one for dates before any)."""
    earlier = [s for s in snapshots if s <= d]
    return snapshots[max(earlier) if earlier else min(snapshots)]


def attributes_of(snapshots: dict, d: dt.date, key: str) -> tuple:
    """A product's attributes on ``d`` for its events: from ``as_of``, else (first seen later:
    D14) from the first later snapshot that has it."""
    return as_of(snapshots, d).get(key) or next(
        snapshots[s][key] for s in sorted(snapshots) if s > d and key in snapshots[s]
    )


def tier_of(merchants: dict, last: dt.date, merchant: str) -> str:
    """The tier in the latest snapshot up to ``last`` that has the merchant, else (a month
    before its first snapshot: D14) in the first one that has it."""
    having = [s for s in sorted(merchants) if merchant in merchants[s]]
    return merchants[max((s for s in having if s <= last), default=having[0])][merchant][0]


def product_days(con) -> dict:
    daily = defaultdict(Counter)
    for name, sql in {
        "impressions": "select product_id, bd, count(*) from acc_impressions group by all",
        "natural_impressions": "select product_id, bd, count(*) from acc_impressions where not "
        "is_paid group by all",
        "clicks": "select product_id, bd, count(*) from acc_clicks where not is_invalid group by "
        "all",
        "search_clicks": "select product_id, bd, count(*) from acc_clicks where not is_invalid "
        "and scene = 'search' group by all",
        "spend": "select product_id, bd, sum(cost) from acc_clicks where not is_invalid and "
        "is_paid group by all",
        "saves": "select product_id, bd, count(*) from acc_saves group by all",
        "orders": "select product_id, bd, count(*) from pur group by all",
        "gmv": "select product_id, bd, sum(amount) from pur group by all",
        "search_orders": "select product_id, bd, count(*) from pur where scene = 'search' group "
        "by all",
    }.items():
        for product, d, value in con.execute(sql).fetchall():
            daily[(product, d)][name] = Fraction(value)
    return daily


def percentile(values: list, q: Fraction) -> Fraction:
    """Continuous percentile with linear interpolation (numpy's default), exactly."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = int(pos)
    return v[lo] if lo + 1 >= len(v) else v[lo] + (v[lo + 1] - v[lo]) * (pos - lo)


def product_tables(
    con, first: dt.date, D: dt.date, vs: list[dict], products: dict, merchants: dict
) -> dict[str, dict]:
    daily = product_days(con)

    def total(product, d, n, measure, back=0):
        return sum(daily.get((product, d - (back + k) * DAY), Counter())[measure] for k in range(n))

    late, w = p("late_days"), p("lifecycle_window_days")
    thresholds = rules.lifecycle_thresholds()
    # date → product → orders; earlier ones count from the first date
    orders_on = defaultdict(Counter)
    for (product, d), n in daily.items():
        orders_on[max(d, first)][product] += n["orders"]
    lifecycle, stage, cum = {}, {}, Counter()
    for d in days(first, D):
        cum.update(orders_on[d])
        for product, (_merchant, _category, standard, listed) in as_of(products, d).items():
            if listed > d:
                continue
            t = thresholds["standard" if standard else "non_standard"]
            orders, gmv = total(product, d, w, "orders"), total(product, d, w, "gmv")
            orders_prev, gmv_prev = (
                total(product, d, w, "orders", w),
                total(product, d, w, "gmv", w),
            )
            if cum[product] < t.cold_start_max_cum_orders:
                s = "cold_start"
            elif gmv >= Fraction(t.burst_gmv_ratio) * gmv_prev and orders >= t.burst_min_orders_7d:
                s = "burst"
            elif gmv > 0 and gmv >= Fraction(t.growth_gmv_ratio) * gmv_prev:
                s = "growth"
            else:
                s = "steady"
            stage[(product, d)] = s
            impressions, clicks, saves = (
                total(product, d, w, k) for k in ("impressions", "clicks", "saves")
            )
            lifecycle[(product, d)] = (
                standard,
                impressions,
                clicks,
                saves,
                orders,
                gmv,
                orders_prev,
                gmv_prev,
                cum[product],
                ratio(clicks, impressions),
                ratio(saves, clicks),
                ratio(orders, clicks),
                s,
                d + late * DAY <= D,
            )
    return {
        "marts.product_lifecycle_daily": lifecycle,
        "marts.product_tags_daily": tags(first, D, products, merchants, total, stage),
        "marts.campaign_uplift": uplift(vs, D, total),
        "marts.merchant_plan_usage": plan_usage(con, first + late * DAY, D, merchants),
    }


def tags(first, D, products, merchants, total, stage) -> dict:
    out = {}
    n14, n28 = p("tag_window_days"), p("roi_lookback_days")
    for d in days(first, D):
        snapshot, tiers = as_of(products, d), as_of(merchants, d)
        m = {
            product: {
                k: total(product, d, n14, k)
                for k in (
                    "impressions",
                    "clicks",
                    "saves",
                    "orders",
                    "search_clicks",
                    "search_orders",
                )
            }
            | {"gmv28": total(product, d, n28, "gmv"), "spend28": total(product, d, n28, "spend")}
            for product in snapshot
        }
        roi = {
            product: x["gmv28"] / x["spend28"] if x["spend28"] >= p("roi_min_spend") else None
            for product, x in m.items()
        }
        top = defaultdict(list)
        for product, (merchant, *_) in snapshot.items():
            if tiers[merchant][0] == "brand" and m[product]["gmv28"] > 0:
                top[merchant].append(product)
        excluded = {
            x
            for ps in top.values()
            for x in sorted(ps, key=lambda q: (-m[q]["gmv28"], q))[: p("tag_brand_top_excluded")]
        }
        by_category = defaultdict(list)
        for product, (_, category, *_) in snapshot.items():
            by_category[category].append(product)
        for members in by_category.values():

            def rates(q, m=m):  # m is this date's metrics
                return (
                    Fraction(m[q]["clicks"], m[q]["impressions"]),
                    Fraction(m[q]["saves"], m[q]["clicks"]),
                    Fraction(m[q]["orders"], m[q]["clicks"]),
                )

            peers = [
                q
                for q in members
                if m[q]["impressions"] >= p("tag_min_peer_impressions")
                and m[q]["clicks"] >= p("tag_min_peer_clicks")
            ]
            search_peers = [
                q for q in members if m[q]["search_clicks"] >= p("tag_min_search_clicks")
            ]
            young = {q for q in members if stage.get((q, d)) in ("cold_start", "growth")}
            platform, search = set(), set()
            if len(peers) >= p("tag_min_peers"):
                bars = [
                    percentile([rates(q)[k] for q in peers], Fraction(p("tag_platform_percentile")))
                    for k in range(3)
                ]
                platform = {
                    q for q in peers if q in young and all(rates(q)[k] >= bars[k] for k in range(3))
                }
            if len(search_peers) >= p("tag_min_search_peers"):

                def cvr(q):
                    return Fraction(m[q]["search_orders"], m[q]["search_clicks"])  # noqa: B023

                bar = percentile(
                    [cvr(q) for q in search_peers], Fraction(p("tag_search_percentile"))
                )
                search = {q for q in search_peers if q in young and cvr(q) >= bar}
            category_rois = [r for q in members if (r := roi[q]) is not None]
            median = (
                percentile(category_rois, Fraction(1, 2))
                if len(category_rois) >= p("roi_min_category_products")
                else None
            )
            for q in (platform | search) - excluded:
                base = roi[q] if roi[q] is not None else median
                tiers_ = (
                    (None,) * 3
                    if base is None
                    else tuple(
                        round2(base * Fraction(p(f"roi_tier_{k}_factor"))) for k in (1, 2, 3)
                    )
                )
                x = m[q]
                rates_ = (
                    ratio(x["clicks"], x["impressions"]),
                    ratio(x["saves"], x["clicks"]),
                    ratio(x["orders"], x["clicks"]),
                    ratio(x["search_orders"], x["search_clicks"]),
                )
                out[(q, d)] = (q in platform, q in search) + rates_ + (base,) + tiers_
    return out


def uplift(vs: list[dict], D, total) -> dict:
    n = p("uplift_days")
    out = {}
    for v in vs:
        start, product = v["start"], v["product"]
        gmv = total(product, start - DAY, n, "gmv"), total(product, start + (n - 1) * DAY, n, "gmv")
        natural = (
            total(product, start - DAY, n, "natural_impressions"),
            total(product, start + (n - 1) * DAY, n, "natural_impressions"),
        )
        out[v["id"]] = (
            start,
            *gmv,
            ratio(gmv[1] - gmv[0], gmv[0]),
            *natural,
            ratio(natural[1] - natural[0], natural[0]),
            start + p("uplift_final_lag_days") * DAY <= D,
        )
    return out


def plan_usage(con, first: dt.date, D: dt.date, merchants: dict) -> dict:
    created, ended = {}, {}
    for camp, merchant, action, t in con.execute(
        "select campaign_id, merchant_id, action, change_time from changes"
    ).fetchall():
        if action == "create":
            created[camp] = (merchant, local_date(t))
        elif action == "end":
            ended[camp] = local_date(t)
    out = {}
    for d in days(first, D):
        for merchant, (_, quota) in as_of(merchants, d).items():
            live = sum(
                1
                for c, (owner, start) in created.items()
                if owner == merchant and start <= d and not (c in ended and ended[c] <= d)
            )
            out[(merchant, d)] = (live, quota, live > quota)
    return out


# -- the published side and the comparison -----------------------------------------------------
PUBLISHED = {
    "dq.ingest_reconciliation": (
        "table_name, ingest_date",
        "rows_in, accepted, duplicates, quarantined",
    ),
    "dq.quarantine_summary": ("table_name, ingest_date, reason", "rows"),
    "marts.fct_product_daily": (
        "product_id, business_date",
        "merchant_id, category, impressions, paid_impressions, clicks, paid_clicks, "
        "invalid_clicks, favorites, carts, orders, units, gmv, spend, paid_attributed_orders, "
        "paid_attributed_gmv",
    ),
    "marts.fct_product_traffic_daily": (
        "product_id, business_date, scene, is_paid",
        "impressions, clicks, invalid_clicks, spend, attributed_orders, attributed_gmv",
    ),
    "marts.dim_campaign_versions": (
        "campaign_version_id",
        "campaign_id, version_no, merchant_id, product_id, valid_from, "
        "valid_to, start_date, daily_budget, target_roi, roi_choice, is_tagged",
    ),
    "marts.fct_campaign_daily": (
        "campaign_version_id, business_date",
        "spend, paid_impressions, paid_clicks, invalid_clicks, gmv, paid_attributed_gmv, roi",
    ),
    "marts.campaign_roi_7d": (
        "campaign_version_id",
        "campaign_id, merchant_id, product_id, start_date, close_date, "
        "spend_days, spend, gmv, roi, target_roi, achievement, status",
    ),
    "finance.compensation_claims": (
        "campaign_version_id",
        "campaign_id, merchant_id, product_id, start_date, close_date, "
        "spend, gmv, roi, target_roi, is_tagged, roi_choice, eligible, status, reason, "
        "compensation_amount, settlement_month",
    ),
    "finance.merchant_rebates_monthly": (
        "merchant_id, month",
        "merchant_tier, spend, compensation, rebate_base, rebate_rate, rebate_amount, status",
    ),
    "marts.product_lifecycle_daily": (
        "product_id, business_date",
        "is_standard, impressions_7d, clicks_7d, saves_7d, "
        "orders_7d, gmv_7d, orders_prev_7d, gmv_prev_7d, cum_orders, ctr_7d, save_rate_7d, "
        "cvr_7d, stage, is_final",
    ),
    "marts.product_tags_daily": (
        "product_id, business_date",
        "platform_recommended, search_bestseller, ctr_14d, save_rate_14d, cvr_14d, search_cvr_14d, "
        "baseline_roi, roi_tier_1, roi_tier_2, roi_tier_3",
    ),
    "marts.campaign_uplift": (
        "campaign_version_id",
        "start_date, gmv_before_7d, gmv_after_7d, gmv_uplift, "
        "natural_impressions_before_7d, natural_impressions_after_7d, natural_traffic_uplift, "
        "is_final",
    ),
    "marts.merchant_plan_usage": (
        "merchant_id, business_date",
        "live_campaigns, plan_quota, over_quota",
    ),
}


def _same(a, b) -> bool:
    """Values equal as numbers (exact: Decimal, int and Fraction compare by value) or as is."""
    if a is None or b is None or isinstance(a, (bool, str)) or isinstance(b, (bool, str)):
        return a == b
    if isinstance(a, float) or isinstance(b, float):  # a DOUBLE rate published from exact values
        return Fraction(a) == Fraction(b) or abs(float(a) - float(b)) <= 1e-12 * max(
            1.0, abs(float(b))
        )
    if isinstance(a, (dt.date, dt.datetime)):
        return a == b
    return Fraction(a) == Fraction(b)


def recompute(root: Path, D: dt.date) -> dict[str, dict]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    raw = root / "raw"
    con.execute(
        f"create table products as select * from read_parquet('{raw}/products/*/*.parquet') where "
        f"dt <= DATE '{D}'"
    )
    con.execute(
        f"create table merchants as select * from read_parquet('{raw}/merchants/*/*.parquet') "
        f"where dt <= DATE '{D}'"
    )
    con.execute(
        f"create table changes as select * from "
        f"read_parquet('{raw}/campaign_changes/*/*.parquet') where dt <= DATE '{D}'"
    )
    products, merchants = defaultdict(dict), defaultdict(dict)
    for d, product, merchant, category, standard, listed in con.execute(
        "select dt, product_id, merchant_id, category, is_standard, listed_date from products"
    ).fetchall():
        products[d][product] = (merchant, category, standard, listed)
    for d, merchant, tier, quota in con.execute(
        "select dt, merchant_id, merchant_tier, plan_quota from merchants"
    ).fetchall():
        merchants[d][merchant] = (tier, quota)
    outcomes = clean(con, root, D)
    first_ingest = min(i for _, i in outcomes)
    first = first_ingest - p("late_days") * DAY  # the first run recomputes D-2 … D
    attribute(con)
    out = dq_tables(outcomes)
    out |= daily_facts(con, first, D, products)
    vs = versions(con)
    out |= campaign_tables(con, D, vs, merchants)
    out |= product_tables(con, first, D, vs, products, merchants)
    return out


def differences(root: Path, D: dt.date) -> dict[str, list]:
    """{table: [(key, published, recomputed), …]} for every published table that differs."""
    mine = recompute(root, D)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    out = {}
    for table, (key, cols) in PUBLISHED.items():
        width = len(key.split(","))
        published = {
            r[:width] if width > 1 else r[0]: r[width:]
            for r in con.execute(f"select {key}, {cols} from {table}").fetchall()
        }
        ours = {k: v if isinstance(v, tuple) else (v,) for k, v in mine[table].items()}
        # grain: rows with an event (product facts: all have one)
        if table == "marts.fct_product_traffic_daily":
            ours = {k: v for k, v in ours.items() if any(v)}
        diff = [
            (k, published.get(k), ours.get(k))
            for k in sorted(set(published) | set(ours), key=repr)
            if k not in published
            or k not in ours
            or not all(_same(a, b) for a, b in zip(published[k], ours[k], strict=True))
        ]
        if diff:
            out[table] = diff
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True, type=Path)
    ap.add_argument(
        "--date", required=True, type=dt.date.fromisoformat, help="the last published ingest date"
    )
    args = ap.parse_args(argv)
    diffs = differences(args.data_root, args.date)
    for table in PUBLISHED:
        rows = diffs.get(table, [])
        print(f"{table:36s} {'equal' if not rows else f'{len(rows)} keys differ'}")
        for key, published, ours in rows[:5]:
            print(f"    {key}: published {published}, recomputed {ours}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

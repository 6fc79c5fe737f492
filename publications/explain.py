"""``fullsite explain``: the trail behind one figure of a statement, from the published
warehouse only — what finance and merchant support answer "why this amount?" with.

Every figure of the trail is the warehouse's own (dbt decides: the rate table in force, the
bracket reached, the protection line, the unrounded amount); nothing is recomputed here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fullsite.layout import Layout
from publications.published import connect, param


class UnknownId(Exception):
    """No such campaign version or merchant-month in the published warehouse."""


def _money(x) -> str:
    return f"{Decimal(x or 0):,.2f}"


def _one(con, sql: str, params: list) -> dict | None:
    """The first row of ``sql`` as a dict by column name (None: no row)."""
    cursor = con.execute(sql, params)
    row = cursor.fetchone()
    return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))


def compensation(layout: Layout, version_id: str) -> list[str]:
    con = connect(layout)
    try:
        v = _one(
            con,
            """select campaign_id, version_no, merchant_id, product_id, valid_from, valid_to,
                      start_date, daily_budget, target_roi, roi_choice, is_tagged
               from marts.dim_campaign_versions where campaign_version_id = ?""",
            [version_id],
        )
        if v is None:
            raise UnknownId(f"unknown campaign version {version_id!r} in {layout.warehouse}")
        w = _one(
            con,
            """select close_date, spend_days, spend, gmv, roi, achievement, status
               from marts.campaign_roi_7d where campaign_version_id = ?""",
            [version_id],
        )
        c = _one(
            con,
            """select settlement_month, eligible, reason, compensation_amount, status,
                      triggered, protection_line_gmv, compensation_unrounded
               from finance.compensation_claims where campaign_version_id = ?""",
            [version_id],
        )
        end = w["close_date"] if w and w["close_date"] else v["start_date"] + dt.timedelta(days=14)
        days = con.execute(
            """select business_date, spend, gmv from marts.fct_campaign_daily
               where campaign_version_id = ? and business_date between ? and ? order by 1""",
            [version_id, v["start_date"], end],
        ).fetchall()
        rules = {k: param(con, k) for k in ("protection_trigger", "min_protected_spend")}
    finally:
        con.close()
    lines = _version_lines(version_id, v)
    if w is None:
        return lines + ["  window:    none yet"]
    lines += _window_lines(v, w, days)
    if c is None:
        return lines + [
            f"  claim:     none: the window is {w['status']} (a claim exists once it is final or "
            "void)"
        ]
    return lines + _claim_lines(v, w, c, rules)


def _version_lines(version_id: str, v: dict) -> list[str]:
    return [
        f"campaign version {version_id} (campaign {v['campaign_id']}, version "
        f"{v['version_no']}; merchant {v['merchant_id']}, product {v['product_id']})",
        f"  settings:  daily budget {_money(v['daily_budget'])}, target ROI {v['target_roi']}, "
        f"roi_choice {v['roi_choice']}, tagged {v['is_tagged']}",
        f"  valid:     from {v['valid_from']} to {v['valid_to'] or 'now (running)'}; "
        f"start_date {v['start_date']}",
    ]


def _window_lines(v: dict, w: dict, days: list[tuple]) -> list[str]:
    spend, gmv, roi = _money(w["spend"]), _money(w["gmv"]), w["roi"]
    return [
        f"  window:    {v['start_date']} … {w['close_date'] or 'not known yet'} "
        f"({w['spend_days']} spend days), status {w['status']}",
        "  daily:     date        spend          gmv",
        *(f"             {d}  {_money(s):>12} {_money(g):>12}" for d, s, g in days),
        f"  totals:    spend {spend}, gmv {gmv}, ROI {roi:.4f}"
        if roi is not None
        else f"  totals:    spend {spend}, gmv {gmv}, ROI none (no spend)",
    ]


def _claim_lines(v: dict, w: dict, c: dict, rules: dict) -> list[str]:
    """The claim as the warehouse decided it (dbt decides; nothing is recomputed here)."""
    trigger, minimum = rules["protection_trigger"], rules["min_protected_spend"]
    spend, gmv, target = Decimal(w["spend"] or 0), Decimal(w["gmv"] or 0), v["target_roi"]
    amount = _money(c["compensation_amount"])
    lines = [
        f"  eligible:  {c['eligible']} (tagged {v['is_tagged']}; recommended target "
        f"{v['roi_choice'] != 'custom'}; spend {_money(spend)} ≥ {minimum}: {spend >= minimum})"
    ]
    if c["protection_line_gmv"] is not None:
        achievement = w["achievement"]
        lines.append(
            f"  trigger:   gmv {_money(gmv)} < {trigger} × {target} × {_money(spend)} = "
            f"{c['protection_line_gmv']:,.4f}: {bool(c['triggered'])}"
            + (f" (achievement {achievement:.2%})" if achievement is not None else "")
        )
    if c["reason"] == "compensated" and c["compensation_unrounded"] is not None:
        lines.append(
            f"  formula:   round2({_money(spend)} − {_money(gmv)} / ({trigger} × {target})) "
            f"= round2({c['compensation_unrounded']:,.10f}) = {amount}"
        )
    lines.append(
        f"  result:    {amount} CNY, reason {c['reason']}, status {c['status']}, settled in "
        f"{c['settlement_month']:%Y-%m}"
    )
    return lines


def rebate(layout: Layout, merchant_id: str, month: dt.date) -> list[str]:
    con = connect(layout)
    try:
        r = con.execute(
            """select merchant_name, merchant_tier, spend, compensation, rebate_base, rebate_rate,
                                  rebate_amount, status, rate_effective_from, bracket_min_base,
                                      rebate_unrounded
                           from finance.merchant_rebates_monthly where merchant_id = ? and month =
                               ?""",
            [merchant_id, month],
        ).fetchone()
        if r is None:
            raise UnknownId(
                f"no rebate for merchant {merchant_id!r} in {month:%Y-%m} in {layout.warehouse}"
            )
        claims = con.execute(
            """select campaign_version_id, close_date, compensation_amount from
                finance.compensation_claims
                                where merchant_id = ? and settlement_month = ? and status = 'final'
                                  and compensation_amount > 0 order by close_date""",
            [merchant_id, month],
        ).fetchall()
        brackets = con.execute(
            """select min_base, rebate_rate from params.rebate_rates
                                  where merchant_tier = ? and effective_from = ? order by min_base
                                      desc""",
            [r[1], r[8]],
        ).fetchall()
    finally:
        con.close()
    name, tier, spend, comp, base, rate, amount, status, effective, reached, unrounded = r
    lines = [
        f"rebate of merchant {merchant_id} ({name}), {month:%Y-%m}: status {status}",
        f"  tier:      {tier} (snapshot of the month's last day)",
        f"  spend:     {_money(spend)} (all the merchant's campaigns, dates in the month)",
        f"  netted:    compensation settled in the month {_money(comp)}",
    ]
    lines += [f"             {cv} closed {d}: {_money(a)}" for cv, d, a in claims]
    lines.append(f"  base:      max(0, {_money(spend)} − {_money(comp)}) = {_money(base)}")
    if brackets:
        lines.append(
            f"  brackets:  (rate table effective {effective}) "
            + "; ".join(f"≥ {b:,.0f}: {Decimal(x):.2%}" for b, x in brackets)
        )
    if reached is not None:
        lines.append(f"  reached:   ≥ {reached:,.0f} → rate {Decimal(rate):.2%}")
    lines.append(
        f"  amount:    round2({_money(base)} × {rate}) = round2({unrounded}) = {_money(amount)}"
    )
    lines.append(f"  result:    {_money(amount)} CNY")
    return lines

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


def compensation(layout: Layout, version_id: str) -> list[str]:
    con = connect(layout)
    try:
        v = con.execute(
            """select campaign_id, version_no, merchant_id, product_id, valid_from, valid_to,
                start_date,
                                  daily_budget, target_roi, roi_choice, is_tagged
                           from marts.dim_campaign_versions where campaign_version_id = ?""",
            [version_id],
        ).fetchone()
        if v is None:
            raise UnknownId(f"unknown campaign version {version_id!r} in {layout.warehouse}")
        w = con.execute(
            """select close_date, spend_days, spend, gmv, roi, achievement, status
                           from marts.campaign_roi_7d where campaign_version_id = ?""",
            [version_id],
        ).fetchone()
        c = con.execute(
            """select settlement_month, eligible, reason, compensation_amount, status,
                                  triggered, protection_line_gmv, compensation_unrounded
                           from finance.compensation_claims where campaign_version_id = ?""",
            [version_id],
        ).fetchone()
        end = w[0] if w and w[0] else v[6] + dt.timedelta(days=14)
        days = con.execute(
            """select business_date, spend, gmv from marts.fct_campaign_daily
                              where campaign_version_id = ? and business_date between ? and ?
                                  order by 1""",
            [version_id, v[6], end],
        ).fetchall()
        trigger, minimum = param(con, "protection_trigger"), param(con, "min_protected_spend")
    finally:
        con.close()
    (
        campaign_id,
        n,
        merchant,
        product,
        valid_from,
        valid_to,
        start,
        budget,
        target,
        choice,
        tagged,
    ) = v
    lines = [
        f"campaign version {version_id} (campaign {campaign_id}, version {n}; merchant "
        f"{merchant}, product {product})",
        f"  settings:  daily budget {_money(budget)}, target ROI {target}, roi_choice {choice}, "
        f"tagged {tagged}",
        f"  valid:     from {valid_from} to {valid_to or 'now (running)'}; start_date {start}",
    ]
    if w is None:
        return lines + ["  window:    none yet"]
    close, spend_days, spend, gmv, roi, achievement, status = w
    lines.append(
        f"  window:    {start} … {close or 'not known yet'} ({spend_days} spend days), status "
        f"{status}"
    )
    lines.append("  daily:     date        spend          gmv")
    lines += [f"             {d}  {_money(s):>12} {_money(g):>12}" for d, s, g in days]
    lines.append(
        f"  totals:    spend {_money(spend)}, gmv {_money(gmv)}, ROI {roi:.4f}"
        if roi is not None
        else f"  totals:    spend {_money(spend)}, gmv {_money(gmv)}, ROI none (no spend)"
    )
    if c is None:
        return lines + [
            f"  claim:     none: the window is {status} (a claim exists once it is final or void)"
        ]
    month, eligible, reason, amount, claim_status, triggered, line, unrounded = c
    spend, gmv = Decimal(spend or 0), Decimal(gmv or 0)
    lines.append(
        f"  eligible:  {eligible} (tagged {tagged}; recommended target {choice != 'custom'}; "
        f"spend {_money(spend)} ≥ {minimum}: {spend >= minimum})"
    )
    if line is not None:  # the warehouse's own figures (dbt decides; nothing is recomputed here)
        lines.append(
            f"  trigger:   gmv {_money(gmv)} < {trigger} × {target} × {_money(spend)} = "
            f"{line:,.4f}: "
            f"{bool(triggered)}"
            + (f" (achievement {achievement:.2%})" if achievement is not None else "")
        )
    if reason == "compensated" and unrounded is not None:
        lines.append(
            f"  formula:   round2({_money(spend)} − {_money(gmv)} / ({trigger} × {target})) "
            f"= round2({unrounded:,.10f}) = {_money(amount)}"
        )
    lines.append(
        f"  result:    {_money(amount)} CNY, reason {reason}, status {claim_status}, settled in "
        f"{month:%Y-%m}"
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

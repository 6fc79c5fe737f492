"""``fullsite explain``: the trail behind one figure of a statement, from the published
warehouse only — what finance and merchant support answer "why this amount?" with.

The amount is recomputed from its inputs with exact decimals (half away from zero) and
shown next to the published one: they must agree.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from fullsite.layout import Layout
from publications.published import connect, has_table, param

CENT = Decimal("0.01")


class UnknownId(Exception):
    """No such campaign version or merchant-month in the published warehouse."""


def _round2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _money(x) -> str:
    return f"{Decimal(x or 0):,.2f}"


def compensation(layout: Layout, version_id: str) -> list[str]:
    con = connect(layout)
    try:
        v = con.execute("""select campaign_id, version_no, merchant_id, product_id, valid_from, valid_to, start_date,
                                  daily_budget, target_roi, roi_choice, is_tagged
                           from marts.dim_campaign_versions where campaign_version_id = ?""", [version_id]).fetchone()
        if v is None:
            raise UnknownId(f"unknown campaign version {version_id!r} in {layout.warehouse}")
        w = con.execute("""select close_date, spend_days, spend, gmv, roi, achievement, status
                           from marts.campaign_roi_7d where campaign_version_id = ?""", [version_id]).fetchone()
        c = con.execute("""select settlement_month, eligible, reason, compensation_amount, status
                           from finance.compensation_claims where campaign_version_id = ?""", [version_id]).fetchone()
        end = w[0] if w and w[0] else v[6] + dt.timedelta(days=14)
        days = con.execute("""select business_date, spend, gmv from marts.fct_campaign_daily
                              where campaign_version_id = ? and business_date between ? and ? order by 1""",
                           [version_id, v[6], end]).fetchall()
        trigger, minimum = param(con, "protection_trigger"), param(con, "min_protected_spend")
    finally:
        con.close()
    campaign_id, n, merchant, product, valid_from, valid_to, start, budget, target, choice, tagged = v
    lines = [
        f"campaign version {version_id} (campaign {campaign_id}, version {n}; merchant {merchant}, product {product})",
        f"  settings:  daily budget {_money(budget)}, target ROI {target}, roi_choice {choice}, tagged {tagged}",
        f"  valid:     from {valid_from} to {valid_to or 'now (running)'}; start_date {start}",
    ]
    if w is None:
        return lines + ["  window:    none yet"]
    close, spend_days, spend, gmv, roi, achievement, status = w
    lines.append(f"  window:    {start} … {close or 'not known yet'} ({spend_days} spend days), status {status}")
    lines.append("  daily:     date        spend          gmv")
    lines += [f"             {d}  {_money(s):>12} {_money(g):>12}" for d, s, g in days]
    lines.append(f"  totals:    spend {_money(spend)}, gmv {_money(gmv)}, ROI {roi:.4f}" if roi is not None
                 else f"  totals:    spend {_money(spend)}, gmv {_money(gmv)}, ROI none (no spend)")
    if c is None:
        return lines + [f"  claim:     none: the window is {status} (a claim exists once it is final or void)"]
    month, eligible, reason, amount, claim_status = c
    spend, gmv = Decimal(spend or 0), Decimal(gmv or 0)
    lines.append(f"  eligible:  {eligible} (tagged {tagged}; recommended target {choice != 'custom'}; "
                 f"spend {_money(spend)} ≥ {minimum}: {spend >= minimum})")
    threshold = trigger * Decimal(target) * spend
    lines.append(f"  trigger:   gmv {_money(gmv)} < {trigger} × {target} × {_money(spend)} = {threshold:,.4f}: {gmv < threshold}"
                 + (f" (achievement {achievement:.2%})" if achievement is not None else ""))
    if reason == "compensated":
        exact = spend - gmv / (trigger * Decimal(target))
        lines.append(f"  formula:   round2({_money(spend)} − {_money(gmv)} / ({trigger} × {target})) "
                     f"= round2({exact:,.10f}) = {_money(_round2(exact))}")
    lines.append(f"  result:    {_money(amount)} CNY, reason {reason}, status {claim_status}, settled in {month:%Y-%m}")
    return lines


def rebate(layout: Layout, merchant_id: str, month: dt.date) -> list[str]:
    con = connect(layout)
    try:
        r = con.execute("""select merchant_name, merchant_tier, spend, compensation, rebate_base, rebate_rate,
                                  rebate_amount, status
                           from finance.merchant_rebates_monthly where merchant_id = ? and month = ?""",
                        [merchant_id, month]).fetchone()
        if r is None:
            raise UnknownId(f"no rebate for merchant {merchant_id!r} in {month:%Y-%m} in {layout.warehouse}")
        claims = con.execute("""select campaign_version_id, close_date, compensation_amount from finance.compensation_claims
                                where merchant_id = ? and settlement_month = ? and status = 'final'
                                  and compensation_amount > 0 order by close_date""", [merchant_id, month]).fetchall()
        brackets = con.execute("""
            with inforce as (select *, max(effective_from) over (partition by merchant_tier) as newest
                             from params.rebate_rates where effective_from <= ? and merchant_tier = ?)
            select min_base, rebate_rate from inforce where effective_from = newest order by min_base desc""",
                               [month, r[1]]).fetchall() if has_table(con, "params.rebate_rates") else []
    finally:
        con.close()
    name, tier, spend, comp, base, rate, amount, status = r
    lines = [f"rebate of merchant {merchant_id} ({name}), {month:%Y-%m}: status {status}",
             f"  tier:      {tier} (snapshot of the month's last day)",
             f"  spend:     {_money(spend)} (all the merchant's campaigns, dates in the month)",
             f"  netted:    compensation settled in the month {_money(comp)}"]
    lines += [f"             {cv} closed {d}: {_money(a)}" for cv, d, a in claims]
    lines.append(f"  base:      max(0, {_money(spend)} − {_money(comp)}) = {_money(base)}")
    if brackets:
        lines.append("  brackets:  " + "; ".join(f"≥ {b:,.0f}: {Decimal(x):.2%}" for b, x in brackets))
        reached = next(((b, x) for b, x in brackets if Decimal(base) >= b), None)
        if reached:
            lines.append(f"  reached:   ≥ {reached[0]:,.0f} → rate {Decimal(reached[1]):.2%}")
    exact = Decimal(base) * Decimal(rate)
    lines.append(f"  amount:    round2({_money(base)} × {rate}) = round2({exact}) = {_money(_round2(exact))}")
    lines.append(f"  result:    {_money(amount)} CNY")
    return lines


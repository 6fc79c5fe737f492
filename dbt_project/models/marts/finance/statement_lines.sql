-- The lines of final statements as the warehouse now knows them (issue 43): one row per
-- line and money column, for every line a final statement of its period would hold. What a
-- statement issues is read from here (finance.issued_lines keeps it), and
-- finance.adjustments compares the closed periods' lines with what was issued.

with rebates as (
    -- `fullsite report rebates`: every final merchant-month
    select
        'rebates' as statement_kind, month as period_date, merchant_id as line_key,
        merchant_id, spend, compensation, rebate_base, rebate_amount
    from {{ ref('merchant_rebates_monthly') }}
    where status = 'final'
),

compensation as (
    -- `fullsite report compensation`: every final window with an amount to pay
    select
        'compensation' as statement_kind, close_date as period_date,
        campaign_version_id as line_key, merchant_id, spend, gmv, compensation_amount
    from {{ ref('compensation_claims') }}
    where status = 'final' and compensation_amount > 0
),

figures as (
    select
        statement_kind, period_date, line_key, merchant_id, 'spend' as money_column,
        spend as value
    from rebates
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'compensation' as money_column,
        compensation as value
    from rebates
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'rebate_base' as money_column,
        rebate_base as value
    from rebates
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'rebate_amount' as money_column,
        rebate_amount as value
    from rebates
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'spend' as money_column,
        spend as value
    from compensation
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'gmv' as money_column,
        gmv as value
    from compensation
    union all
    select
        statement_kind, period_date, line_key, merchant_id, 'compensation_amount' as money_column,
        compensation_amount as value
    from compensation
)

select
    statement_kind::string as statement_kind,
    period_date::date as period_date,
    line_key::string as line_key,
    merchant_id::string as merchant_id,
    money_column::string as money_column,
    value::decimal(18, 2) as value
from figures

-- Tiered monthly rebates (rules.md §5).
-- The contract's declared types are DuckDB's; Spark builds the same columns unenforced.
{{ config(contract={'enforced': target.type != 'spark'}) }}
-- Final months are settled (finance pays them): a night never rewrites them.
{{ keep_final_config("status = 'final'") }}

with campaign_merchant as (
    select campaign_id, any_value(merchant_id) as merchant_id
    from {{ ref('stg_campaign_changes') }}
    group by campaign_id
),

spend as (
    -- every valid paid click of the merchant's campaigns, whatever version it falls in
    select
        cm.merchant_id,
        cast(date_trunc('month', s.business_date) as date) as month,
        sum(s.spend) as spend
    from {{ ref('stg_fct_campaign_segment_daily') }} as s
    inner join campaign_merchant as cm using (campaign_id)
    group by all
),

compensation as (
    select merchant_id, settlement_month as month, sum(compensation_amount) as compensation
    from {{ ref('compensation_claims') }}
    where status = 'final'
    group by all
),

months as (
    select
        coalesce(s.merchant_id, c.merchant_id) as merchant_id,
        coalesce(s.month, c.month) as month,
        coalesce(s.spend, 0)::decimal(18, 2) as spend,
        coalesce(c.compensation, 0)::decimal(18, 2) as compensation
    from spend as s
    full join compensation as c on s.merchant_id = c.merchant_id and s.month = c.month
),

based as (
    select
        *,
        greatest(spend - compensation, 0)::decimal(18, 2) as rebate_base,
        cast(last_day(month) as date) as month_end
    from months
    where (spend > 0 or compensation > 0)
    {% if is_incremental() %}
      and not exists (select 1 from {{ this }} t
                      where t.status = 'final' and t.merchant_id = months.merchant_id and t.month = months.month)
    {% endif %}
),

tiers as (
    -- the tier in the snapshot of the month's last day, or the latest one before it, or (a
    -- month that ends before the merchant's first snapshot: late events of the days before the
    -- first ingest) the first one that has the merchant (D14)
    select
        b.merchant_id, b.month,
        coalesce(
            max_by(m.merchant_tier, m.snapshot_date) filter (where m.snapshot_date <= b.month_end),
            min_by(m.merchant_tier, m.snapshot_date)
        ) as merchant_tier,
        coalesce(
            max_by(m.merchant_name, m.snapshot_date) filter (where m.snapshot_date <= b.month_end),
            min_by(m.merchant_name, m.snapshot_date)
        ) as merchant_name
    from based as b
    inner join {{ ref('stg_merchants') }} as m on b.merchant_id = m.merchant_id
    group by all
),

rate_tables as (
    -- the rate table in force for each month: the latest effective_from on or before it
    select b.merchant_id, b.month, t.merchant_tier, max(r.effective_from) as effective_from
    from based as b
    inner join tiers as t using (merchant_id, month)
    inner join {{ ref('rebate_rates') }} as r
        on t.merchant_tier = r.merchant_tier and b.month >= r.effective_from
    group by all
),

rates as (
    -- the highest bracket the base reaches; the whole base earns that rate
    select
        b.merchant_id, b.month, rt.effective_from,
        max(r.min_base) as bracket_min_base, max_by(r.rebate_rate, r.min_base) as rebate_rate
    from based as b
    inner join rate_tables as rt using (merchant_id, month)
    inner join {{ ref('rebate_rates') }} as r
        on
            rt.merchant_tier = r.merchant_tier and rt.effective_from = r.effective_from
            and b.rebate_base >= r.min_base
    group by all
)

select
    b.merchant_id::string as merchant_id,
    b.month::date as month,
    t.merchant_tier::string as merchant_tier,
    t.merchant_name::string as merchant_name,
    b.spend::decimal(18, 2) as spend,
    b.compensation::decimal(18, 2) as compensation,
    b.rebate_base::decimal(18, 2) as rebate_base,
    coalesce(r.rebate_rate, 0)::decimal(10, 4) as rebate_rate,
    round(b.rebate_base * coalesce(r.rebate_rate, 0), 2)::decimal(18, 2) as rebate_amount,
    (case
        when {{ run_date() }} >= b.month_end + {{ int_param('rebate_final_lag_days') }}
            then 'final'
        else 'provisional'
    end)::string as status,
    -- the trail (statements and `fullsite explain` print it; nothing is recomputed there)
    r.effective_from::date as rate_effective_from,
    r.bracket_min_base::decimal(18, 2) as bracket_min_base,
    (b.rebate_base * coalesce(r.rebate_rate, 0))::decimal(28, 6) as rebate_unrounded
from based as b
left join tiers as t using (merchant_id, month)
left join rates as r using (merchant_id, month)

-- Merchant × business date: what an analyst asks first (GMV paid and natural, spend, the
-- two ROI figures, live campaigns, what finance settles). The rows are the grain outputs.md
-- promises — merchants with any accepted event or a live campaign that day — and every day
-- that carries a final compensation close or a final rebate, so that sums over days add up
-- to the statements. Product figures are sums of fct_product_daily (they tie out to it),
-- campaign figures sums of fct_campaign_daily.
with facts as (
    select
        merchant_id, business_date,
        sum(gmv) as gmv,
        sum(paid_attributed_gmv) as paid_attributed_gmv,
        sum(spend) as spend,
        sum(orders) as orders,
        count(distinct product_id) filter (where orders > 0) as products_with_orders
    from {{ ref('fct_product_daily') }}
    group by all
),

campaigns as (
    select merchant_id, business_date, sum(gmv) as campaign_gmv, sum(spend) as campaign_spend
    from {{ ref('fct_campaign_daily') }}
    group by all
),

lives as (
    -- the campaigns' live dates up to the run date (a lateral series needs first <= last)
    select
        merchant_id, first_live_date,
        least(coalesce(last_live_date, {{ run_date() }}), {{ run_date() }}) as last_date
    from {{ ref('int_campaign_lives') }}
    where first_live_date <= least(coalesce(last_live_date, {{ run_date() }}), {{ run_date() }})
),

live as (
    select l.merchant_id, d.business_date, count(*) as live_campaigns
    from lives as l, {{ each_date('l.first_live_date', 'l.last_date', 'd', 'business_date') }}
    group by all
),

compensation as (
    select merchant_id, close_date as business_date, sum(compensation_amount) as compensation_amount
    from {{ ref('compensation_claims') }}
    where status = 'final'
    group by all
),

rebates as (
    -- on the month's last day, once the month is final (every row of the statement)
    select
        merchant_id,
        cast(month + interval 1 month - interval 1 day as date) as business_date,
        rebate_amount
    from {{ ref('merchant_rebates_monthly') }}
    where status = 'final'
),

spine as (
    select merchant_id, business_date from facts
    union
    select merchant_id, business_date from live
    union
    select merchant_id, business_date from compensation
    union
    select merchant_id, business_date from rebates
)

select
    s.merchant_id,
    s.business_date,
    cast(coalesce(f.gmv, 0) as decimal(18, 2)) as gmv,
    cast(coalesce(f.paid_attributed_gmv, 0) as decimal(18, 2)) as paid_attributed_gmv,
    cast(coalesce(f.gmv - f.paid_attributed_gmv, 0) as decimal(18, 2)) as natural_gmv,
    cast(coalesce(f.spend, 0) as decimal(18, 2)) as spend,
    {{ ratio('f.gmv', 'f.spend') }} as roi,
    cast(coalesce(f.orders, 0) as bigint) as orders,
    cast(coalesce(f.products_with_orders, 0) as bigint) as products_with_orders,
    cast(coalesce(l.live_campaigns, 0) as bigint) as live_campaigns,
    cast(coalesce(c.compensation_amount, 0) as decimal(18, 2)) as compensation_amount,
    cast(r.rebate_amount as decimal(18, 2)) as rebate_amount,
    cast(coalesce(k.campaign_gmv, 0) as decimal(18, 2)) as campaign_gmv,
    cast(coalesce(k.campaign_spend, 0) as decimal(18, 2)) as campaign_spend,
    {{ ratio('k.campaign_gmv', 'k.campaign_spend') }} as full_site_roi
from spine as s
left join facts as f using (merchant_id, business_date)
left join campaigns as k using (merchant_id, business_date)
left join live as l using (merchant_id, business_date)
left join compensation as c using (merchant_id, business_date)
left join rebates as r using (merchant_id, business_date)

-- Merchant × business date: what an analyst asks first (GMV paid and natural, spend, ROI,
-- live campaigns, what finance settles). Sums of the product facts, so it ties out to them.
with facts as (
    select
        merchant_id, business_date,
        sum(gmv) as gmv,
        sum(paid_attributed_gmv) as paid_attributed_gmv,
        sum(spend) as spend,
        cast(sum(orders) as bigint) as orders,
        count(distinct product_id) filter (where orders > 0) as products_with_orders
    from {{ ref('fct_product_daily') }}
    group by all
),

compensation as (
    select merchant_id, close_date as business_date, sum(compensation_amount) as compensation_amount
    from {{ ref('compensation_claims') }}
    where status = 'final'
    group by all
),

rebates as (
    -- on the month's last day, once the month is final (so a sum over days adds up to the statements)
    select merchant_id, cast(month + interval 1 month - interval 1 day as date) as business_date, rebate_amount
    from {{ ref('merchant_rebates_monthly') }}
    where status = 'final'
)

select
    f.merchant_id,
    f.business_date,
    cast(f.gmv as decimal(18, 2)) as gmv,
    cast(f.paid_attributed_gmv as decimal(18, 2)) as paid_attributed_gmv,
    cast(f.gmv - f.paid_attributed_gmv as decimal(18, 2)) as natural_gmv,
    cast(f.spend as decimal(18, 2)) as spend,
    {{ ratio('f.gmv', 'f.spend') }} as roi,
    f.orders,
    f.products_with_orders,
    cast(coalesce(u.live_campaigns, 0) as bigint) as live_campaigns,
    cast(coalesce(c.compensation_amount, 0) as decimal(18, 2)) as compensation_amount,
    cast(r.rebate_amount as decimal(18, 2)) as rebate_amount
from facts f
left join {{ ref('merchant_plan_usage') }} u using (merchant_id, business_date)
left join compensation c using (merchant_id, business_date)
left join rebates r using (merchant_id, business_date)

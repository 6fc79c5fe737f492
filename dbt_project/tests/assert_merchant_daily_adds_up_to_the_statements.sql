-- Σ over days of merchant_daily's compensation and rebates equals what finance pays from
-- (final claims, final rebate months), merchant by merchant: the grain keeps every day that
-- carries a settlement (issue 35). Any row returned is a merchant whose days do not add up.
with days as (
    select merchant_id, sum(compensation_amount) as compensation, coalesce(sum(rebate_amount), 0) as rebates
    from {{ ref('merchant_daily') }}
    group by merchant_id
),

claims as (
    select merchant_id, sum(compensation_amount) as compensation
    from {{ ref('compensation_claims') }}
    where status = 'final'
    group by merchant_id
),

rebates as (
    select merchant_id, sum(rebate_amount) as rebates
    from {{ ref('merchant_rebates_monthly') }}
    where status = 'final'
    group by merchant_id
)

select coalesce(d.merchant_id, c.merchant_id, r.merchant_id) as merchant_id,
       d.compensation as daily_compensation, c.compensation as claimed,
       d.rebates as daily_rebates, r.rebates as rebated
from days d
full join claims c using (merchant_id)
full join rebates r using (merchant_id)
where coalesce(d.compensation, 0) <> coalesce(c.compensation, 0)
   or coalesce(d.rebates, 0) <> coalesce(r.rebates, 0)

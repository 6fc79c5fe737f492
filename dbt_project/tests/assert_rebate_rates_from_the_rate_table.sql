-- Every rebate rate paid is a rate of the rate table (seed rebate_rates) for the tier.
select r.merchant_id, r.month, r.merchant_tier, r.rebate_rate
from {{ ref('merchant_rebates_monthly') }} r
anti join {{ ref('rebate_rates') }} t
  on t.merchant_tier = r.merchant_tier and t.rebate_rate = r.rebate_rate

-- When each campaign is live (rules.md §9): live at the end of business date d means
-- created before the next local midnight and not yet ended by then (paused ones count),
-- i.e. from the business date of its `create` to the day before the business date of its
-- `end`. A campaign created and ended on the same date is never live. merchant_plan_usage
-- and merchant_daily read this one definition.
select
    campaign_id,
    any_value(merchant_id) as merchant_id,
    {{ business_date("min(change_time) filter (where action = 'create')") }} as first_live_date,
    {{ business_date("min(change_time) filter (where action = 'end')") }} - 1 as last_live_date
from {{ ref('stg_campaign_changes') }}
group by campaign_id
having count(*) filter (where action = 'create') > 0

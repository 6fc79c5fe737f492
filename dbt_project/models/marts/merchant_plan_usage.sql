-- Live campaigns against the plan quota, per merchant and date (rules.md §9).
{{ rebuild_dates_config() }}
with snapshots as (
    select snapshot_date as business_date, merchant_id, plan_quota
    from {{ ref('stg_merchants') }}
    {% if is_incremental() %}where snapshot_date >= {{ rebuild_from() }}{% endif %}
),

counted as (
    select s.merchant_id, s.business_date, s.plan_quota, count(l.campaign_id) as live_campaigns
    from snapshots as s
    left join {{ ref('int_campaign_lives') }} as l
        on
            s.merchant_id = l.merchant_id
            and s.business_date >= l.first_live_date
            and (l.last_live_date is null or s.business_date <= l.last_live_date)
    group by all
)

select
    merchant_id,
    business_date,
    cast(live_campaigns as integer) as live_campaigns,
    plan_quota,
    live_campaigns > plan_quota as over_quota
from counted

-- Live campaigns against the plan quota, per merchant and date (rules.md §9).
{{ rebuild_dates_config() }}
with snapshots as (
    select snapshot_date as business_date, merchant_id, plan_quota
    from {{ ref('stg_merchants') }}
    {% if is_incremental() %}where snapshot_date >= {{ rebuild_from() }}{% endif %}
),

lives as (
    select
        campaign_id,
        any_value(merchant_id) as merchant_id,
        min(change_time) filter (where action = 'create') as created_at,
        min(change_time) filter (where action = 'end')    as ended_at
    from {{ ref('stg_campaign_changes') }}
    group by campaign_id
),

counted as (
    -- live at the end of d: created before the next local midnight and not ended by then
    select s.merchant_id, s.business_date, s.plan_quota, count(l.campaign_id) as live_campaigns
    from snapshots s
    left join lives l
      on l.merchant_id = s.merchant_id
     and l.created_at < {{ local_midnight('s.business_date + 1') }}
     and (l.ended_at is null or l.ended_at >= {{ local_midnight('s.business_date + 1') }})
    group by all
)

select
    merchant_id,
    business_date,
    cast(live_campaigns as integer) as live_campaigns,
    plan_quota,
    live_campaigns > plan_quota as over_quota
from counted

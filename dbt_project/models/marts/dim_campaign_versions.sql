-- One row per campaign version (rules.md §2).
with starts as (
    select
        *,
        row_number()
            over (partition by campaign_id order by change_time, change_id)
            as version_no,
        lead(change_time)
            over (partition by campaign_id order by change_time, change_id)
            as next_start
    from {{ ref('int_campaign_versions_started') }}
),

ends as (
    select campaign_id, min(change_time) as ended_at
    from {{ ref('stg_campaign_changes') }}
    where action = 'end'
    group by campaign_id
)

select
    starts.campaign_id || '-v' || cast(starts.version_no as string) as campaign_version_id,
    starts.campaign_id,
    cast(starts.version_no as integer) as version_no,
    starts.merchant_id,
    starts.product_id,
    starts.change_time as valid_from,
    coalesce(starts.next_start, ends.ended_at) as valid_to,
    {{ business_date('starts.change_time') }} as start_date,
    starts.daily_budget,
    starts.target_roi,
    starts.roi_choice,
    starts.is_tagged
from starts
left join ends using (campaign_id)

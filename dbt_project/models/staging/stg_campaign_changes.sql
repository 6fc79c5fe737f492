-- The change log up to the run date (changes are never late: dt = business date).
select
    change_id, change_time, campaign_id, merchant_id, product_id, action,
    daily_budget, target_roi, roi_choice, is_tagged,
    cast(dt as date) as ingest_date
from {{ source('raw', 'campaign_changes') }}
where cast(dt as date) <= {{ run_date() }}

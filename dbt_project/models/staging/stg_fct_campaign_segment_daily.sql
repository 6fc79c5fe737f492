-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    campaign_id, segment_start, paid_impressions, paid_clicks, invalid_clicks, spend
from {{ source('curated', 'fct_campaign_segment_daily') }}
where cast(business_date as date) <= {{ run_date() }}

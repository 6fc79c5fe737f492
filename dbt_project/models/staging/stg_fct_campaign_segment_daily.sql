select * replace (cast(business_date as date) as business_date)
from {{ source('curated', 'fct_campaign_segment_daily') }}
where cast(business_date as date) <= {{ run_date() }}

-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    product_id, segment_start, paid_campaign_id, orders, gmv
from {{ source('curated', 'fct_product_segment_daily') }}
where cast(business_date as date) <= {{ run_date() }}

-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    product_id, scene, is_paid, impressions, clicks, invalid_clicks, spend,
    attributed_orders, attributed_gmv
from {{ source('curated', 'fct_product_traffic_daily') }}
where cast(business_date as date) <= {{ run_date() }}

select * replace (cast(business_date as date) as business_date)
from {{ source('curated', 'fct_product_traffic_daily') }}
where cast(business_date as date) <= {{ run_date() }}

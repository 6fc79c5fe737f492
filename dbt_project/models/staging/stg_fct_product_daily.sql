-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    product_id, merchant_id, category, impressions, paid_impressions, clicks,
    paid_clicks, invalid_clicks, favorites, carts, orders, units, gmv, spend,
    paid_attributed_orders, paid_attributed_gmv
from {{ source('curated', 'fct_product_daily') }}
where cast(business_date as date) <= {{ run_date() }}

-- The lifecycle features Spark measured (windows and cumulative orders); the stage is
-- decided in int_product_lifecycle_daily. The partition folder is the date column (its
-- type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    product_id, merchant_id, category, is_standard, impressions_7d, clicks_7d, saves_7d,
    orders_7d, gmv_7d, orders_prev_7d, gmv_prev_7d, cum_orders
from {{ source('curated', 'product_lifecycle_daily') }}
where cast(business_date as date) <= {{ run_date() }}

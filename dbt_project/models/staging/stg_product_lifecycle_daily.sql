-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(business_date as date) as business_date,
    product_id, merchant_id, category, is_standard, impressions_7d, clicks_7d, saves_7d,
    orders_7d, gmv_7d, orders_prev_7d, gmv_prev_7d, cum_orders, ctr_7d, save_rate_7d,
    cvr_7d, stage, is_final
from {{ source('curated', 'product_lifecycle_daily') }}
where cast(business_date as date) <= {{ run_date() }}

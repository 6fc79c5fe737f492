-- Every listed product every date with its lifecycle stage (rules.md §6): Spark's features,
-- dbt's stage (int_product_lifecycle_daily).
{{ rebuild_dates_config() }}
select
    product_id, business_date, merchant_id, category, is_standard,
    impressions_7d, clicks_7d, saves_7d, orders_7d, gmv_7d, orders_prev_7d, gmv_prev_7d,
    cum_orders, ctr_7d, save_rate_7d, cvr_7d, stage, is_final
from {{ ref('int_product_lifecycle_daily') }}
{% if is_incremental() %}where business_date >= {{ rebuild_from() }}{% endif %}

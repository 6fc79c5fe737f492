-- Product × business date facts, built by the Spark stage (rules.md §1, outputs.md).
{{ rebuild_dates_config() }}
select
    product_id, business_date, merchant_id, category,
    impressions, paid_impressions, clicks, paid_clicks, invalid_clicks, favorites, carts,
    orders, units, gmv, spend, paid_attributed_orders, paid_attributed_gmv,
    -- the names the lifecycle and the launch article use (added, nothing renamed)
    favorites + carts as saves,
    gmv - paid_attributed_gmv as natural_gmv
from {{ ref('stg_fct_product_daily') }}
{% if is_incremental() %}where business_date >= {{ rebuild_from() }}{% endif %}

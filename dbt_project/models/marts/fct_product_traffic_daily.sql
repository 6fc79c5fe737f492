-- Product × business date × scene × paid flag (purchases by their attributed scene).
{{ rebuild_dates_config() }}
select
    product_id, business_date, scene, is_paid,
    impressions, clicks, invalid_clicks, spend, attributed_orders, attributed_gmv
from {{ ref('stg_fct_product_traffic_daily') }}
{% if is_incremental() %}where business_date >= {{ rebuild_from() }}{% endif %}

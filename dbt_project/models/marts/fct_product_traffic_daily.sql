-- Product × business date × scene × paid flag (purchases by their attributed scene).
select
    product_id, business_date, scene, is_paid,
    impressions, clicks, invalid_clicks, spend, attributed_orders, attributed_gmv
from {{ ref('stg_fct_product_traffic_daily') }}

-- The lifecycle stage rule (rules.md §6) on the features Spark measured: the first rule
-- that holds, with the thresholds of the product's class (seed lifecycle_thresholds).
-- Comparisons are exact (DECIMAL × DECIMAL); the rates only report. A view: the tables
-- that read it keep only the dates they rebuild.
{{ config(materialized='view') }}
select
    l.product_id, l.business_date, l.merchant_id, l.category, l.is_standard,
    l.impressions_7d,
    l.clicks_7d,
    l.saves_7d,
    l.orders_7d,
    l.gmv_7d,
    l.orders_prev_7d,
    l.gmv_prev_7d,
    l.cum_orders,
    {{ ratio('l.clicks_7d', 'l.impressions_7d') }} as ctr_7d,
    {{ ratio('l.saves_7d', 'l.clicks_7d') }} as save_rate_7d,
    {{ ratio('l.orders_7d', 'l.clicks_7d') }} as cvr_7d,
    case
        when l.cum_orders < t.cold_start_max_cum_orders then 'cold_start'
        when
            l.gmv_7d >= t.burst_gmv_ratio * l.gmv_prev_7d and l.orders_7d >= t.burst_min_orders_7d
            then 'burst'
        when l.gmv_7d > 0 and l.gmv_7d >= t.growth_gmv_ratio * l.gmv_prev_7d then 'growth'
        else 'steady'
    end as stage,
    l.business_date + {{ int_param('late_days') }} <= {{ run_date() }} as is_final
from {{ ref('stg_product_lifecycle_daily') }} as l
inner join {{ ref('lifecycle_thresholds') }} as t
    on t.product_class = case when l.is_standard then 'standard' else 'non_standard' end

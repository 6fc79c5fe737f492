-- GMV and natural traffic of the promoted product in the 7 days before and after each
-- version starts (rules.md §8). Final rows are settled: a night computes only the others.
{{ keep_final_config('is_final') }}
with versions as (
    select campaign_version_id, product_id, start_date
    from {{ ref('dim_campaign_versions') }}
    {% if is_incremental() %}
    where campaign_version_id not in (select campaign_version_id from {{ this }} where is_final)
    {% endif %}
),

n as (select {{ int_param('uplift_days') }} as days
),

sums as (
    select
        v.campaign_version_id,
        v.start_date,
        coalesce(sum(f.gmv) filter (where f.business_date < v.start_date), 0)::decimal(18, 2)
            as gmv_before_7d,
        coalesce(sum(f.gmv) filter (where f.business_date >= v.start_date), 0)::decimal(18, 2)
            as gmv_after_7d,
        coalesce(
            sum(f.impressions - f.paid_impressions) filter (where f.business_date < v.start_date), 0
        )::bigint
            as natural_impressions_before_7d,
        coalesce(
            sum(f.impressions - f.paid_impressions) filter (where f.business_date >= v.start_date),
            0
        )::bigint
            as natural_impressions_after_7d
    from versions as v
    cross join n
    left join {{ ref('stg_fct_product_daily') }} as f
        on
            v.product_id = f.product_id
            and f.business_date between v.start_date - n.days and v.start_date + n.days - 1
    group by all
)

select
    campaign_version_id,
    start_date,
    gmv_before_7d,
    gmv_after_7d,
    case
        when gmv_before_7d > 0 then cast(gmv_after_7d as double) / cast(gmv_before_7d as double) - 1
    end as gmv_uplift,
    natural_impressions_before_7d,
    natural_impressions_after_7d,
    case
        when natural_impressions_before_7d > 0
            then cast(natural_impressions_after_7d as double) / natural_impressions_before_7d - 1
    end as natural_traffic_uplift,
    start_date + {{ int_param('uplift_final_lag_days') }}
    <= {{ run_date() }} as is_final
from sums

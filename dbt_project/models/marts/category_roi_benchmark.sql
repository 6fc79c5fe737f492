-- How a category's campaigns do (issue 23; the article's "ROI 300 % above the industry
-- average"): per category and business date d, the median and mean 7-day ROI of the final
-- windows that closed in the trailing benchmark window. Rebuilt whole every night.
with windows as (
    select w.campaign_version_id, p.category, w.close_date, w.roi
    from {{ ref('campaign_roi_7d') }} w
    left join {{ ref('dim_product') }} p using (product_id)
    where w.status = 'final' and w.roi is not null
),

dates as (
    select distinct business_date from {{ ref('product_lifecycle_daily') }}
),

categories as (
    select distinct category from {{ ref('dim_product') }}
),

stats as (
    select
        d.business_date, c.category,
        count(w.roi) as windows,
        {{ report_round('median(w.roi)') }} as median_roi,
        {{ report_round('avg(w.roi)') }} as mean_roi
    from dates d
    cross join categories c
    left join windows w
      on w.category = c.category
     and w.close_date between d.business_date - ({{ int_param('benchmark_window_days') }} - 1) and d.business_date
    group by all
)

select
    category,
    business_date,
    cast(windows as bigint) as windows,
    case when windows >= {{ int_param('benchmark_min_windows') }} then median_roi end as median_roi,
    case when windows >= {{ int_param('benchmark_min_windows') }} then mean_roi end as mean_roi
from stats

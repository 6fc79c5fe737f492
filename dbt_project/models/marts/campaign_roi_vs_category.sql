-- Every final 7-day window next to its category's median ROI on its close date (issue 23).
-- Above the median is decided on exact fractions of cents (gmv × median_den > median_num ×
-- spend): a window whose ROI is the median is not above it.
select
    w.campaign_version_id,
    w.campaign_id,
    w.merchant_id,
    w.product_id,
    b.category,
    w.close_date,
    w.roi,
    b.median_roi
        as category_median_roi,
    b.windows
        as category_windows,
    case when b.median_roi is not null and m.median_roi > 0 then w.roi / m.median_roi end
        as roi_vs_category_median,
    case
        when b.median_roi is not null and w.spend > 0
            then {{ cents('w.gmv') }} * m.median_den > m.median_num * {{ cents('w.spend') }}
    end
        as above_category_median
from {{ ref('campaign_roi_7d') }} as w
left join {{ ref('dim_product') }} as p using (product_id)
left join
    {{ ref('category_roi_benchmark') }} as b
    on p.category = b.category and w.close_date = b.business_date
left join
    {{ ref('int_category_roi_medians') }} as m
    on b.category = m.category and b.business_date = m.business_date
where w.status = 'final'

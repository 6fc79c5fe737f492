-- Every final 7-day window next to its category's median ROI on its close date (issue 23).
select
    w.campaign_version_id,
    w.campaign_id,
    w.merchant_id,
    w.product_id,
    b.category,
    w.close_date,
    w.roi,
    b.median_roi as category_median_roi,
    b.windows as category_windows,
    case when b.median_roi > 0 then w.roi / b.median_roi end as roi_vs_category_median,
    case when b.median_roi is not null then w.roi > b.median_roi end as above_category_median
from {{ ref('campaign_roi_7d') }} w
left join {{ ref('dim_product') }} p using (product_id)
left join {{ ref('category_roi_benchmark') }} b on b.category = p.category and b.business_date = w.close_date
where w.status = 'final'

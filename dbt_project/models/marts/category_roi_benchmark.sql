-- How a category's campaigns do (issue 23; the article's "ROI 300 % above the industry
-- average"): per category and business date d, the median and mean 7-day ROI of the final
-- windows with an ROI that closed in the trailing benchmark window
-- (int_category_roi_medians), published to 8 decimals. Rebuilt whole every night.
select
    category,
    business_date,
    windows,
    case
        when
            windows >= {{ int_param('benchmark_min_windows') }}
            then {{ report_round('median_roi') }}
    end as median_roi,
    case
        when windows >= {{ int_param('benchmark_min_windows') }} then {{ report_round('mean_roi') }}
    end as mean_roi
from {{ ref('int_category_roi_medians') }}

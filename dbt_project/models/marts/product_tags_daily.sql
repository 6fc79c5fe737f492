-- Potential bestsellers and their recommended ROI tiers (rules.md §7). The tag criteria are
-- int_product_tag_criteria (shared with product_tag_diagnostics, which explains every
-- product that is not tagged). ROI tiers are computed on exact fractions (HUGEINT cross-
-- multiplication); the DOUBLE columns only report them. A night rebuilds the dates from
-- rebuild_from() on (the criteria hold only those).
{{ rebuild_dates_config() }}
with criteria as (
    select * from {{ ref('int_product_tag_criteria') }}
),

tagged as (
    select * from criteria
    where platform_recommended or search_bestseller
),

own_roi as (
    select
        business_date, product_id, category,
        case
            when
                spend_28d >= {{ param('roi_min_spend', 'decimal(18,2)') }}
                then {{ cents('gmv_28d') }}
        end as roi_num,
        case
            when
                spend_28d >= {{ param('roi_min_spend', 'decimal(18,2)') }}
                then {{ cents('spend_28d') }}
        end as roi_den
    from criteria
),

category_rank as (
    select
        business_date, category, roi_num, roi_den,
        row_number()
            over (
                partition by business_date, category
                order by cast(roi_num as double) / roi_den, product_id
            )
        - 1 as rn,
        count(*)
            over (partition by business_date, category)
            as n
    from own_roi
    where roi_num is not null
),

category_median as (
    -- the median of fractions, exactly: the middle one, or the mean of the middle two
    select
        lo.business_date, lo.category,
        case
            when lo.n % 2 = 1 then lo.roi_num else lo.roi_num * hi.roi_den + hi.roi_num * lo.roi_den
        end as med_num,
        case
            when lo.n % 2 = 1 then lo.roi_den else 2 * lo.roi_den * hi.roi_den
        end as med_den
    from category_rank as lo
    left join category_rank as hi
        on lo.business_date = hi.business_date and lo.category = hi.category and hi.rn = lo.rn + 1
    where
        lo.n >= {{ int_param('roi_min_category_products') }}
        and lo.rn = {{ int_div('lo.n - 1', 2) }}
),

baselines as (
    select
        t.*,
        coalesce(o.roi_num, m.med_num) as baseline_num,
        case when o.roi_num is not null then o.roi_den else m.med_den end as baseline_den
    from tagged as t
    inner join own_roi as o using (business_date, product_id)
    left join category_median as m on t.business_date = m.business_date and t.category = m.category
    where t.platform_recommended or t.search_bestseller
)


select
    product_id,
    business_date,
    category,
    merchant_id,
    stage,
    platform_recommended,
    search_bestseller,
    {{ ratio('clicks_14d', 'impressions_14d') }} as ctr_14d,
    {{ ratio('saves_14d', 'clicks_14d') }} as save_rate_14d,
    {{ ratio('orders_14d', 'clicks_14d') }} as cvr_14d,
    {{ ratio('search_orders_14d', 'search_clicks_14d') }} as search_cvr_14d,
    {{ ratio('baseline_num', 'baseline_den') }} as baseline_roi,
    {{ roi_tier('roi_tier_1_factor') }} as roi_tier_1,
    {{ roi_tier('roi_tier_2_factor') }} as roi_tier_2,
    {{ roi_tier('roi_tier_3_factor') }} as roi_tier_3,
    -- counts as BIGINT (a sum in DuckDB is HUGEINT, which BI drivers read badly)
    cast(impressions_14d as bigint) as impressions_14d,
    cast(clicks_14d as bigint) as clicks_14d,
    cast(saves_14d as bigint) as saves_14d,
    cast(orders_14d as bigint) as orders_14d,
    cast(search_clicks_14d as bigint) as search_clicks_14d,
    cast(search_orders_14d as bigint) as search_orders_14d,
    spend_28d, gmv_28d
from baselines

-- depends_on: {{ ref('rule_parameters') }}
-- Potential bestsellers and their recommended ROI tiers (rules.md §7).
-- Percentile thresholds and ROI tiers are computed on exact fractions (HUGEINT
-- cross-multiplication); the DOUBLE columns only report them. A night rebuilds the dates
-- from rebuild_from() on (int_product_windows_daily holds only those).
{{ rebuild_dates_config() }}
with base as (
    select * from {{ ref('int_product_windows_daily') }}
),

rates as (
    -- every rate as an exact fraction num / den
    select business_date, category, product_id, 'ctr' as metric, clicks_14d as num, impressions_14d as den, 'platform' as peer_set
    from base where impressions_14d >= {{ int_param('tag_min_peer_impressions') }} and clicks_14d >= {{ int_param('tag_min_peer_clicks') }}
    union all
    select business_date, category, product_id, 'save_rate', saves_14d, clicks_14d, 'platform'
    from base where impressions_14d >= {{ int_param('tag_min_peer_impressions') }} and clicks_14d >= {{ int_param('tag_min_peer_clicks') }}
    union all
    select business_date, category, product_id, 'cvr', orders_14d, clicks_14d, 'platform'
    from base where impressions_14d >= {{ int_param('tag_min_peer_impressions') }} and clicks_14d >= {{ int_param('tag_min_peer_clicks') }}
    union all
    select business_date, category, product_id, 'search_cvr', search_orders_14d, search_clicks_14d, 'search'
    from base where search_clicks_14d >= {{ int_param('tag_min_search_clicks') }}
),

ranked as (
    select
        *,
        row_number() over w - 1 as rn,
        count(*) over (partition by business_date, category, metric) as n
    from rates
    window w as (partition by business_date, category, metric order by cast(num as double) / den, product_id)
),

positions as (
    -- continuous percentile (numpy's linear interpolation): position (n-1)·p split into an
    -- index and a fraction fn / 10^4
    select distinct
        business_date, category, metric, peer_set, n,
        cast(case when peer_set = 'platform' then {{ param('tag_platform_percentile') }} else {{ param('tag_search_percentile') }} end * 10000 as {{ type_exact_int() }}) * (n - 1) as pos_e4
    from ranked
),

thresholds as (
    select
        p.business_date, p.category, p.metric, p.n, p.peer_set,
        p.pos_e4 % 10000 as fn,
        lo.num as lo_num, lo.den as lo_den,
        coalesce(hi.num, lo.num) as hi_num, coalesce(hi.den, lo.den) as hi_den
    from positions p
    join ranked lo
      on lo.business_date = p.business_date and lo.category = p.category and lo.metric = p.metric
     and lo.rn = {{ int_div('p.pos_e4', 10000) }}
    left join ranked hi
      on hi.business_date = p.business_date and hi.category = p.category and hi.metric = p.metric
     and hi.rn = {{ int_div('p.pos_e4', 10000) }} + 1
),

passes as (
    -- num/den >= ((1 - f)·lo + f·hi), multiplied out
    select
        r.business_date, r.product_id, r.metric, r.peer_set,
        t.n >= case when r.peer_set = 'platform' then {{ int_param('tag_min_peers') }} else {{ int_param('tag_min_search_peers') }} end
        and cast(r.num as {{ type_exact_int() }}) * t.lo_den * t.hi_den * 10000
            >= cast(r.den as {{ type_exact_int() }}) * ((10000 - t.fn) * t.lo_num * t.hi_den + t.fn * t.hi_num * t.lo_den) as passed
    from ranked r
    join thresholds t using (business_date, category, metric)
),

flags as (
    select
        business_date, product_id,
        coalesce(bool_and(passed) filter (where peer_set = 'platform') and count(*) filter (where peer_set = 'platform') = 3, false) as platform_ok,
        coalesce(bool_and(passed) filter (where peer_set = 'search'), false) as search_ok
    from passes
    group by all
),

brand_top as (
    -- established bestsellers of brand merchants are never tagged
    select business_date, product_id
    from (
        select business_date, product_id,
               row_number() over (partition by business_date, merchant_id order by gmv_28d desc, product_id) as rnk
        from base
        where merchant_tier = 'brand' and gmv_28d > 0
    )
    where rnk <= {{ int_param('tag_brand_top_excluded') }}
),

tagged as (
    select
        b.*,
        f.platform_ok and b.stage in ('cold_start', 'growth') as platform_recommended,
        f.search_ok   and b.stage in ('cold_start', 'growth') as search_bestseller
    from base b
    join flags f using (business_date, product_id)
    anti join brand_top x using (business_date, product_id)
),

own_roi as (
    select business_date, product_id, category,
           case when spend_28d >= {{ param('roi_min_spend', 'decimal(18,2)') }} then {{ cents('gmv_28d') }} end as roi_num,
           case when spend_28d >= {{ param('roi_min_spend', 'decimal(18,2)') }} then {{ cents('spend_28d') }} end as roi_den
    from base
),

category_rank as (
    select business_date, category, roi_num, roi_den,
           row_number() over (partition by business_date, category order by cast(roi_num as double) / roi_den, product_id) - 1 as rn,
           count(*) over (partition by business_date, category) as n
    from own_roi
    where roi_num is not null
),

category_median as (
    -- the median of fractions, exactly: the middle one, or the mean of the middle two
    select
        lo.business_date, lo.category,
        case when lo.n % 2 = 1 then lo.roi_num else lo.roi_num * hi.roi_den + hi.roi_num * lo.roi_den end as med_num,
        case when lo.n % 2 = 1 then lo.roi_den else 2 * lo.roi_den * hi.roi_den end as med_den
    from category_rank lo
    left join category_rank hi
      on hi.business_date = lo.business_date and hi.category = lo.category and hi.rn = lo.rn + 1
    where lo.n >= {{ int_param('roi_min_category_products') }} and lo.rn = {{ int_div('lo.n - 1', 2) }}
),

baselines as (
    select
        t.*,
        coalesce(o.roi_num, m.med_num) as baseline_num,
        case when o.roi_num is not null then o.roi_den else m.med_den end as baseline_den
    from tagged t
    join own_roi o using (business_date, product_id)
    left join category_median m on m.business_date = t.business_date and m.category = t.category
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
    cast(impressions_14d as bigint) as impressions_14d, cast(clicks_14d as bigint) as clicks_14d,
    cast(saves_14d as bigint) as saves_14d, cast(orders_14d as bigint) as orders_14d,
    cast(search_clicks_14d as bigint) as search_clicks_14d, cast(search_orders_14d as bigint) as search_orders_14d,
    spend_28d, gmv_28d
from baselines

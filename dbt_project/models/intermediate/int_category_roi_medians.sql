-- Per category and business date d: the final windows with an ROI (window spend > 0) that
-- closed in the trailing benchmark_window_days days, their median and mean ROI, and the
-- median as an exact fraction median_num / median_den of cents (the middle window's
-- gmv / spend, or the mean of the middle two), so that campaign_roi_vs_category compares a
-- window with its category's median exactly (rules.md: never compare rounded values). A
-- window without spend has no ROI: it counts toward nothing here. Rebuilt whole every night.
with windows as (
    select
        w.campaign_version_id, p.category, w.close_date, w.roi,
        {{ cents('w.gmv') }} as gmv_c, {{ cents('w.spend') }} as spend_c
    from {{ ref('campaign_roi_7d') }} as w
    left join {{ ref('dim_product') }} as p using (product_id)
    where w.status = 'final' and w.spend > 0
),

dates as (
    select distinct business_date from {{ ref('product_lifecycle_daily') }}
),

categories as (
    select distinct category from {{ ref('dim_product') }}
),

members as (
    select d.business_date, w.*
    from dates as d
    inner join windows as w
        on
            w.close_date between d.business_date
            - ({{ int_param('benchmark_window_days') }} - 1) and d.business_date
),

ranked as (
    select
        *,
        row_number() over (partition by business_date, category order by roi, campaign_version_id)
        - 1 as rn,
        count(*)
            over (partition by business_date, category)
            as n
    from members
),

middle as (
    -- the middle window (odd count), or the lower of the middle two and the one after it
    select
        lo.business_date, lo.category,
        lo.gmv_c as lo_num,
        lo.spend_c as lo_den,
        coalesce(hi.gmv_c, lo.gmv_c) as hi_num, coalesce(hi.spend_c, lo.spend_c) as hi_den
    from ranked as lo
    left join ranked as hi
        on
            lo.business_date = hi.business_date and lo.category = hi.category
            and hi.rn = lo.rn + 1 and lo.n % 2 = 0
    where lo.rn = {{ int_div('lo.n - 1', 2) }}
),

stats as (
    select
        d.business_date, c.category,
        count(m.roi) as windows,
        median(m.roi) as median_roi,
        avg(m.roi) as mean_roi
    from dates as d
    cross join categories as c
    left join members as m
        on d.business_date = m.business_date and c.category = m.category
    group by all
)

select
    s.category,
    s.business_date,
    cast(s.windows as bigint) as windows,
    s.median_roi,
    s.mean_roi,
    -- (lo_num / lo_den + hi_num / hi_den) / 2, as one fraction of exact integers
    m.lo_num * m.hi_den + m.hi_num * m.lo_den as median_num,
    2 * m.lo_den * m.hi_den as median_den
from stats as s
left join middle as m using (business_date, category)

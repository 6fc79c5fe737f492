-- Per product (snapshot of d) and business date d: the 14-day tag metrics and the 28-day
-- spend and GMV (rules.md §7), with its category, merchant tier and lifecycle stage.
with dates as (
    -- the dates product_tags_daily rebuilds (their windows reach further back)
    select distinct business_date from {{ ref('stg_product_lifecycle_daily') }}
    where business_date >= {{ rebuild_from() }}
),

snapshot_dates as (
    select distinct snapshot_date from {{ ref('stg_products') }}
),

snapshot_for as (
    -- the snapshot of d, or the latest before it (the first one for dates before any)
    select
        d.business_date,
        coalesce(
            max(s.snapshot_date) filter (where s.snapshot_date <= d.business_date),
            min(s.snapshot_date)
        ) as snapshot_date
    from dates as d
    cross join snapshot_dates as s
    group by d.business_date
),

products as (
    select sf.business_date, p.product_id, p.merchant_id, p.category, m.merchant_tier
    from snapshot_for as sf
    inner join {{ ref('stg_products') }} as p
        on sf.snapshot_date = p.snapshot_date and sf.business_date >= p.listed_date
    left join {{ ref('stg_merchants') }} as m
        on sf.snapshot_date = m.snapshot_date and p.merchant_id = m.merchant_id
),

search_daily as (
    select
        product_id,
        business_date,
        sum(clicks) as search_clicks,
        sum(attributed_orders) as search_orders
    from {{ ref('stg_fct_product_traffic_daily') }}
    where
        scene = 'search'
        -- the windows reach roi_lookback_days back from the first rebuilt date, no further:
        -- a night reads those days of facts, not the whole history (issue 46; the window
        -- join below drops every earlier row, so the figures are the same)
        and business_date >= {{ rebuild_from() }} - {{ int_param('roi_lookback_days') }} + 1
    group by all
),

daily as (
    select
        f.product_id, f.business_date, f.impressions, f.clicks, f.favorites + f.carts as saves,
        f.orders, f.gmv, f.spend,
        coalesce(t.search_clicks, 0)
            as search_clicks,
        coalesce(t.search_orders, 0)
            as search_orders
    from {{ ref('stg_fct_product_daily') }} as f
    left join search_daily as t using (product_id, business_date)
    where f.business_date >= {{ rebuild_from() }} - {{ int_param('roi_lookback_days') }} + 1
),

windows as (
    select
        p.business_date,
        p.product_id,
        coalesce(
            sum(d.impressions) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as impressions_14d,
        coalesce(
            sum(d.clicks) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as clicks_14d,
        coalesce(
            sum(d.saves) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as saves_14d,
        coalesce(
            sum(d.orders) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as orders_14d,
        coalesce(
            sum(d.search_clicks) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as search_clicks_14d,
        coalesce(
            sum(d.search_orders) filter (
                where d.business_date > p.business_date - {{ int_param('tag_window_days') }}
            ),
            0
        ) as search_orders_14d,
        coalesce(sum(d.spend), 0)::decimal(
            18, 2
        )
            as spend_28d,
        coalesce(sum(d.gmv), 0)::decimal(
            18, 2
        )
            as gmv_28d
    from products as p
    left join daily as d
        on
            p.product_id = d.product_id
            and d.business_date between p.business_date
            - {{ int_param('roi_lookback_days') }}
            + 1 and p.business_date
    group by all
)

select
    p.*,
    w.impressions_14d,
    w.clicks_14d,
    w.saves_14d,
    w.orders_14d,
    w.search_clicks_14d,
    w.search_orders_14d,
    w.spend_28d, w.gmv_28d,
    l.stage
from products as p
inner join windows as w using (business_date, product_id)
left join {{ ref('int_product_lifecycle_daily') }} as l using (product_id, business_date)

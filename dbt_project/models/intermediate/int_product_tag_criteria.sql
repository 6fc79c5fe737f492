-- rules.md §7, written once: every criterion of both tags for every product of each date
-- int_product_windows_daily holds (the dates a night rebuilds), with each rate's value and
-- threshold. product_tags_daily keeps the tagged products and their ROI tiers;
-- product_tag_diagnostics shows every product with the first criterion it misses.
-- Percentile thresholds are decided on exact fractions (HUGEINT cross-multiplication); the
-- DOUBLE value and threshold columns only report them.
with base as (
    select * from {{ ref('int_product_windows_daily') }}
),

all_rates as (
    -- every rate of every product as an exact fraction num / den; in_peers: counted among its
    -- category's peers
    select
        business_date,
        category,
        product_id,
        'ctr'
            as metric,
        clicks_14d as num,
        impressions_14d as den,
        'platform' as peer_set,
        impressions_14d >= {{ int_param('tag_min_peer_impressions') }}
        and clicks_14d >= {{ int_param('tag_min_peer_clicks') }} as in_peers
    from base
    union all
    select
        business_date, category, product_id, 'save_rate' as metric, saves_14d as num,
        clicks_14d as den, 'platform' as peer_set,
        impressions_14d >= {{ int_param('tag_min_peer_impressions') }}
        and clicks_14d >= {{ int_param('tag_min_peer_clicks') }} as in_peers
    from base
    union all
    select
        business_date, category, product_id, 'cvr' as metric, orders_14d as num,
        clicks_14d as den, 'platform' as peer_set,
        impressions_14d >= {{ int_param('tag_min_peer_impressions') }}
        and clicks_14d >= {{ int_param('tag_min_peer_clicks') }} as in_peers
    from base
    union all
    select
        business_date,
        category,
        product_id,
        'search_cvr' as metric,
        search_orders_14d as num,
        search_clicks_14d as den,
        'search' as peer_set,
        search_clicks_14d >= {{ int_param('tag_min_search_clicks') }} as in_peers
    from base
),

ranked as (
    select
        *,
        row_number() over w - 1 as rn,
        count(*) over (partition by business_date, category, metric) as n
    from all_rates
    where in_peers
    window
        w as (
            partition by business_date, category, metric
            order by cast(num as double) / den, product_id
        )
),

positions as (
    -- continuous percentile (numpy's linear interpolation): position (n-1)·p split into an
    -- index and a fraction fn / 10^4
    select distinct
        business_date, category, metric, peer_set, n,
        cast(
            case
                when
                    peer_set = 'platform'
                    then {{ param('tag_platform_percentile') }}
                else {{ param('tag_search_percentile') }}
            end
            * 10000 as {{ type_exact_int() }}
        )
        * (n - 1) as pos_e4
    from ranked
),

thresholds as (
    select
        p.business_date, p.category, p.metric, p.n, p.peer_set,
        p.pos_e4 % 10000 as fn,
        lo.num as lo_num, lo.den as lo_den,
        coalesce(hi.num, lo.num) as hi_num, coalesce(hi.den, lo.den) as hi_den
    from positions as p
    inner join ranked as lo
        on
            p.business_date = lo.business_date and p.category = lo.category and p.metric = lo.metric
            and lo.rn = {{ int_div('p.pos_e4', 10000) }}
    left join ranked as hi
        on
            p.business_date = hi.business_date and p.category = hi.category and p.metric = hi.metric
            and hi.rn = {{ int_div('p.pos_e4', 10000) }} + 1
),

judged as (
    -- meets: num/den >= ((1 - f)·lo + f·hi), multiplied out (null without a rate or peers)
    select
        r.business_date, r.product_id, r.metric,
        coalesce(t.n, 0) as peers,
        {{ ratio('r.num', 'r.den') }} as value,
        case
            when t.n is not null then
                cast(t.lo_num as double) / t.lo_den
                + (cast(t.hi_num as double) / t.hi_den - cast(t.lo_num as double) / t.lo_den)
                * t.fn
                / 10000
        end as threshold,
        case
            when r.den > 0 and t.n is not null then
                cast(r.num as {{ type_exact_int() }}) * t.lo_den * t.hi_den * 10000
                >= cast(r.den as {{ type_exact_int() }})
                * ((10000 - t.fn) * t.lo_num * t.hi_den + t.fn * t.hi_num * t.lo_den)
        end as meets
    from all_rates as r
    left join thresholds as t using (business_date, category, metric)
),

judged_by_product as (
    select
        business_date, product_id,
        {%- for m in ['ctr', 'save_rate', 'cvr', 'search_cvr'] %}
            any_value(value) filter (where metric = '{{ m }}') as {{ m }}_value,
            any_value(threshold) filter (where metric = '{{ m }}')
                as {{ m }}_threshold,
            coalesce(any_value(meets) filter (where metric = '{{ m }}'), false) as {{ m }}_ok,
        {%- endfor %}
        any_value(peers) filter (where metric = 'ctr') as platform_peers,
        any_value(peers) filter (where metric = 'search_cvr') as search_peers
    from judged
    group by all
),

brand_top as (
    -- established bestsellers of brand merchants are never tagged
    select business_date, product_id
    from (
        select
            business_date, product_id,
            row_number()
                over (partition by business_date, merchant_id order by gmv_28d desc, product_id asc)
                as rnk
        from base
        where merchant_tier = 'brand' and gmv_28d > 0
    ) as ranked
    where rnk <= {{ int_param('tag_brand_top_excluded') }}
),

criteria_flags as (
    select
        b.*,
        {%- for m in ['ctr', 'save_rate', 'cvr', 'search_cvr'] %}
            j.{{ m }}_value, j.{{ m }}_threshold, j.{{ m }}_ok,
        {%- endfor %}
        j.platform_peers, j.search_peers,
        j.platform_peers
        >= {{ int_param('tag_min_peers') }}
            as enough_peers,
        b.impressions_14d >= {{ int_param('tag_min_peer_impressions') }}
        and b.clicks_14d >= {{ int_param('tag_min_peer_clicks') }} as is_peer,
        j.search_peers
        >= {{ int_param('tag_min_search_peers') }}
            as enough_search_peers,
        b.search_clicks_14d
        >= {{ int_param('tag_min_search_clicks') }}
            as is_search_peer,
        b.stage in (
            'cold_start', 'growth'
        )
            as stage_eligible,
        x.product_id is not null
            as brand_top
    from base as b
    inner join judged_by_product as j using (business_date, product_id)
    left join brand_top as x using (business_date, product_id)
),

criteria as (
    select
        *,
        enough_peers
        and is_peer
        and stage_eligible
        and ctr_ok
        and save_rate_ok
        and cvr_ok
        and not brand_top as platform_recommended,
        enough_search_peers
        and is_search_peer
        and stage_eligible
        and search_cvr_ok
        and not brand_top as search_bestseller
    from criteria_flags
)

select * from criteria

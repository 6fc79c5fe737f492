-- What the recommended ROI buys (issue 23; the launch article's "up to 40 % extra traffic"):
-- final campaign versions by month of start_date, category and roi_choice, and each
-- recommended tier's median natural-traffic uplift minus custom's in the same month and
-- category. Statistics are rounded once, where they are published: the difference with
-- custom is taken of the unrounded medians. Rebuilt whole every night (a few rows per
-- month and category).
with versions as (
    select
        cast(date_trunc('month', u.start_date) as date) as month,
        p.category,
        v.roi_choice,
        u.campaign_version_id,
        u.natural_traffic_uplift,
        u.gmv_uplift,
        w.achievement
    from {{ ref('campaign_uplift') }} as u
    inner join {{ ref('dim_campaign_versions') }} as v using (campaign_version_id)
    left join {{ ref('dim_product') }} as p on v.product_id = p.product_id
    left join
        {{ ref('campaign_roi_7d') }} as w
        on u.campaign_version_id = w.campaign_version_id and w.status = 'final'
    where u.is_final
),

groups as (
    select
        month, category, roi_choice,
        count(*) as versions,
        median(natural_traffic_uplift) as median_natural_traffic_uplift,
        avg(natural_traffic_uplift) as mean_natural_traffic_uplift,
        median(gmv_uplift) as median_gmv_uplift,
        -- final windows with an ROI (achievement is null without spend)
        count(achievement) as final_windows,
        median(achievement) as median_achievement
    from versions
    group by all
)

select
    g.month,
    g.category,
    g.roi_choice,
    cast(g.versions as bigint) as versions,
    {{ report_round('g.median_natural_traffic_uplift') }} as median_natural_traffic_uplift,
    {{ report_round('g.mean_natural_traffic_uplift') }} as mean_natural_traffic_uplift,
    {{ report_round('g.median_gmv_uplift') }} as median_gmv_uplift,
    cast(g.final_windows as bigint) as final_windows,
    {{ report_round('g.median_achievement') }} as median_achievement,
    cast(coalesce(c.versions, 0) as bigint) as custom_versions,
    case
        when
            g.roi_choice <> 'custom'
            and g.versions >= {{ int_param('claims_min_group_versions') }}
            and c.versions >= {{ int_param('claims_min_group_versions') }}
            then
                {{ report_round(
                    'g.median_natural_traffic_uplift - c.median_natural_traffic_uplift'
                ) }}
    end as natural_uplift_vs_custom
from groups as g
left join groups as c
    on g.month = c.month and c.category is not distinct from g.category and c.roi_choice = 'custom'

-- Version facts by business date (rules.md §2): the Spark stage cut every campaign's and
-- every product's events at each change time, so a version [valid_from, valid_to) is a
-- union of whole segments, exact to the microsecond. Only dates from rebuild_from() on:
-- fct_campaign_daily keeps the earlier ones.
{#- Segment s of a rebuilt date starts inside version v = [valid_from, valid_to). -#}
{%- set segment_in_version -%}
    s.business_date >= {{ rebuild_from() }}
     and s.segment_start >= v.valid_from
     and (v.valid_to is null or s.segment_start < v.valid_to)
{%- endset %}

with versions as (
    select * from {{ ref('dim_campaign_versions') }}
),

campaign_facts as (
    select
        v.campaign_version_id,
        s.business_date,
        sum(s.spend) as spend,
        sum(s.paid_impressions) as paid_impressions,
        sum(s.paid_clicks) as paid_clicks,
        sum(s.invalid_clicks) as invalid_clicks
    from versions as v
    inner join {{ ref('stg_fct_campaign_segment_daily') }} as s
        on
            v.campaign_id = s.campaign_id
            and {{ segment_in_version }}
    group by all
),

product_facts as (
    select
        v.campaign_version_id,
        s.business_date,
        sum(s.gmv) as gmv,
        sum(s.orders) as orders,
        coalesce(sum(s.gmv) filter (where s.paid_campaign_id = v.campaign_id), 0)
            as paid_attributed_gmv
    from versions as v
    inner join {{ ref('stg_fct_product_segment_daily') }} as s
        on
            v.product_id = s.product_id
            and {{ segment_in_version }}
    group by all
)

select
    coalesce(c.campaign_version_id, p.campaign_version_id) as campaign_version_id,
    coalesce(c.business_date, p.business_date) as business_date,
    cast(coalesce(c.spend, 0) as decimal(18, 2)) as spend,
    cast(coalesce(c.paid_impressions, 0) as bigint) as paid_impressions,
    cast(coalesce(c.paid_clicks, 0) as bigint) as paid_clicks,
    cast(coalesce(c.invalid_clicks, 0) as bigint) as invalid_clicks,
    cast(coalesce(p.gmv, 0) as decimal(18, 2)) as gmv,
    cast(coalesce(p.orders, 0) as bigint) as orders,
    cast(coalesce(p.paid_attributed_gmv, 0) as decimal(18, 2)) as paid_attributed_gmv
from campaign_facts as c
full join product_facts as p
    on c.campaign_version_id = p.campaign_version_id and c.business_date = p.business_date

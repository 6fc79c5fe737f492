-- Every date from a version's start_date to its last date: the business date of the last
-- instant before valid_to, or the run date while it runs (outputs.md).
-- Dates before rebuild_from() are settled: the night rebuilds only the later ones.
{{ rebuild_dates_config() }}
with versions as (
    select
        *,
        case
            when valid_to is null then {{ run_date() }}
            else {{ business_date("valid_to - interval 1 microsecond") }}
        end as last_date
    from {{ ref('dim_campaign_versions') }}
),

calendar as (
    select v.campaign_version_id, d.business_date
    from versions as v,
        {{ each_date('v.start_date', 'least(v.last_date, ' ~ run_date() ~ ')',
                     'd', 'business_date') }}
    where v.last_date >= v.start_date
)

select
    c.campaign_version_id,
    c.business_date,
    v.campaign_id,
    v.merchant_id,
    v.product_id,
    coalesce(f.spend, 0)::decimal(18, 2) as spend,
    coalesce(f.paid_impressions, 0)::bigint as paid_impressions,
    coalesce(f.paid_clicks, 0)::bigint as paid_clicks,
    coalesce(f.invalid_clicks, 0)::bigint as invalid_clicks,
    coalesce(f.gmv, 0)::decimal(18, 2) as gmv,
    coalesce(f.paid_attributed_gmv, 0)::decimal(18, 2) as paid_attributed_gmv,
    {{ ratio('coalesce(f.gmv, 0)', 'coalesce(f.spend, 0)') }} as roi
from calendar as c
inner join versions as v using (campaign_version_id)
left join {{ ref('int_campaign_version_days') }} as f
    on c.campaign_version_id = f.campaign_version_id and c.business_date = f.business_date
{% if is_incremental() %}where c.business_date >= {{ rebuild_from() }}{% endif %}

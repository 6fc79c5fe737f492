-- The 7-day assessment window of every version and its status after run D (rules.md §3).
-- Final windows are settled: a night computes only the others.
{{ keep_final_config("status = 'final'") }}
with versions as (
    select * from {{ ref('dim_campaign_versions') }}
    {% if is_incremental() %}
    where campaign_version_id not in (select campaign_version_id from {{ this }} where status = 'final')
    {% endif %}
),

days as (
    select campaign_version_id, business_date, spend, gmv
    from {{ ref('fct_campaign_daily') }}
),

spend_days as (
    select
        campaign_version_id,
        business_date,
        row_number() over (partition by campaign_version_id order by business_date) as spend_day_no
    from days
    where spend > 0
),

closing as (
    select
        v.*,
        cast(v.start_date + {{ int_param('window_max_days') }} - 1 as date) as cap_date,
        s.business_date as nth_spend_day
    from versions as v
    left join spend_days as s
        on
            v.campaign_version_id = s.campaign_version_id
            and s.spend_day_no = {{ int_param('window_spend_days') }}
),

windows as (
    select
        *,
        -- close_date: the earlier of the Nth spend day and the cap, once dates <= D show it.
        case
            when nth_spend_day is not null and nth_spend_day <= cap_date then nth_spend_day
            when cap_date <= {{ run_date() }} then cap_date
        end as close_date
    from closing
),

totals as (
    select
        w.campaign_version_id,
        count(*) filter (where d.spend > 0) as spend_days,
        coalesce(sum(d.spend), 0)::decimal(18, 2) as spend,
        coalesce(sum(d.gmv), 0)::decimal(18, 2) as gmv
    from windows as w
    left join days as d
        on
            w.campaign_version_id = d.campaign_version_id
            and d.business_date between w.start_date and coalesce(w.close_date, {{ run_date() }})
    group by w.campaign_version_id
)

select
    w.campaign_version_id,
    w.campaign_id,
    w.merchant_id,
    w.product_id,
    w.start_date,
    w.close_date,
    cast(t.spend_days as integer) as spend_days,
    t.spend,
    t.gmv,
    {{ ratio('t.gmv', 't.spend') }} as roi,
    w.target_roi,
    {{ ratio('t.gmv', 't.spend') }} / cast(w.target_roi as double) as achievement,
    {{ below_protection_line('t.gmv', 't.spend', 'w.target_roi') }} as below_protection_line,
    case
        -- ended (by a settings change or `end`) before the end of close_date, or before
        -- close_date could be determined: protection is void
        when
            w.valid_to is not null
            and (w.close_date is null or w.valid_to < {{ local_midnight('w.close_date + 1') }})
            then 'void'
        when w.close_date is null then 'open'
        when w.close_date + {{ int_param('late_days') }} > {{ run_date() }} then 'provisional'
        else 'final'
    end as status,
    w.valid_to
from windows as w
inner join totals as t using (campaign_version_id)

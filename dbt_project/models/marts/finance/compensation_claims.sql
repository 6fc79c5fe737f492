-- Cost protection (rules.md §4): one row per window with status final or void.
-- The contract's declared types are DuckDB's; Spark builds the same columns unenforced.
{{ config(contract={'enforced': target.type != 'spark'}) }}
-- Final claims are settled (finance pays them): a night never rewrites them.
{{ keep_final_config("status = 'final'") }}

with windows as (
    select r.*, v.is_tagged, v.roi_choice
    from {{ ref('campaign_roi_7d') }} as r
    inner join {{ ref('dim_campaign_versions') }} as v using (campaign_version_id)
    where r.status in ('final', 'void')
    {% if is_incremental() %}
      and r.campaign_version_id not in (select campaign_version_id from {{ this }} where status = 'final')
    {% endif %}
),

assessed as (
    select
        *,
        is_tagged
        and roi_choice in ('tier_1', 'tier_2', 'tier_3')
        and spend >= {{ param('min_protected_spend', 'decimal(18,2)') }} as is_eligible,
        -- trigger as an integer over 10^4, target ROI in hundredths
        cast({{ param('protection_trigger') }} * 10000 as {{ type_exact_int() }}) as trigger_e4,
        {{ cents('target_roi') }} as target_e2
    from windows
),

triggered as (
    -- gmv < trigger × target × spend, exactly (the macro; no spend is never triggered)
    select
        *,
        coalesce({{ below_protection_line('gmv', 'spend', 'target_roi') }}, false) as is_triggered
    from assessed
),

amounts as (
    select
        *,
        -- round2(spend − gmv / (trigger × target)) in cents, exactly:
        -- (spend_c·P·t − gmv_c·10^6) / (P·t), half away from zero (the numerator is > 0
        -- exactly when triggered)
        -- 10^4: trigger_e4, 100: target_e2
        {{ cents('spend') }} * trigger_e4 * target_e2
        - {{ cents('gmv') }} * 10000 * 100 as numerator,
        trigger_e4
        * target_e2 as denominator
    from triggered
)

select
    campaign_version_id::string as campaign_version_id,
    campaign_id::string as campaign_id,
    merchant_id::string as merchant_id,
    product_id::string as product_id,
    start_date::date as start_date,
    close_date::date as close_date,
    cast(
        date_trunc(
            'month',
            case when status = 'void' then {{ business_date('valid_to') }} else close_date end
        ) as date
    )
        as settlement_month,
    status::string as status,
    spend::decimal(18, 2) as spend,
    gmv::decimal(18, 2) as gmv,
    roi::double as roi,
    target_roi::decimal(10, 2) as target_roi,
    is_tagged::boolean as is_tagged,
    roi_choice::string as roi_choice,
    (status = 'final' and is_eligible)::boolean as eligible,
    (case
        when status = 'void' then 'void_settings_changed'
        when not is_tagged then 'not_tagged'
        when roi_choice = 'custom' then 'custom_roi'
        when spend < {{ param('min_protected_spend', 'decimal(18,2)') }} then 'below_min_spend'
        when not is_triggered then 'target_met'
        else 'compensated'
    end)::string as reason,
    (case
        when status = 'final' and is_eligible and is_triggered
            then {{ from_cents(int_div('2 * numerator + denominator', '2 * denominator')) }}
        else 0
    end)::decimal(18, 2) as compensation_amount,
    -- the trail (`fullsite explain` prints it; nothing is recomputed there)
    (status = 'final' and is_triggered)::boolean as triggered,
    -- the GMV at which achievement is exactly protection_trigger (below it: triggered)
    (cast({{ param('protection_trigger') }} as decimal(6, 4)) * target_roi * spend)::decimal(38, 8)
        as protection_line_gmv,
    (case
        when status = 'final' and is_eligible and is_triggered
            -- spend − gmv / (trigger × target) in CNY, carried to 10 decimal places (truncated)
            then cast(
                cast({{ int_div('numerator * 100000000', 'denominator') }} as decimal(38, 0))
                * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10)
            )
    end) as compensation_unrounded
from amounts

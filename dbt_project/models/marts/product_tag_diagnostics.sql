-- Why a product is (not) tagged on a date, and what it would take (issue 23): every product
-- of the date with each criterion of rules.md §7 in order, its value, the threshold and the
-- gap, and the first criterion it misses. The criteria are product_tags_daily's
-- (int_product_tag_criteria), so `tagged` holds exactly when the product is tagged there (a
-- data test checks it too).
{{ rebuild_dates_config() }}
with criteria as (
    select * from {{ ref('int_product_tag_criteria') }}
)

select
    product_id,
    business_date,
    category,
    merchant_id,
    merchant_tier,
    stage,
    -- platform tag, criteria in order
    cast(platform_peers as bigint) as category_peers,
    enough_peers,
    cast(impressions_14d as bigint) as impressions_14d,
    cast(clicks_14d as bigint) as clicks_14d,
    is_peer,
    stage_eligible,
    ctr_value as ctr_14d,
    ctr_threshold,
    ctr_value - ctr_threshold as ctr_gap,
    ctr_ok,
    save_rate_value as save_rate_14d,
    save_rate_threshold,
    save_rate_value - save_rate_threshold as save_rate_gap,
    save_rate_ok,
    cvr_value as cvr_14d,
    cvr_threshold,
    cvr_value - cvr_threshold as cvr_gap,
    cvr_ok,
    -- search tag
    cast(search_peers as bigint) as category_search_peers,
    enough_search_peers,
    cast(search_clicks_14d as bigint) as search_clicks_14d,
    is_search_peer,
    search_cvr_value as search_cvr_14d,
    search_cvr_threshold,
    search_cvr_value - search_cvr_threshold as search_cvr_gap,
    search_cvr_ok,
    -- the exclusion, then the verdicts
    gmv_28d,
    brand_top as brand_top5,
    platform_recommended,
    search_bestseller,
    case
        when not enough_peers then 'category_too_small'
        when not is_peer then 'needs_traffic'
        when not stage_eligible then 'stage_not_eligible'
        when not ctr_ok then 'raise_ctr'
        when not save_rate_ok then 'raise_save_rate'
        when not cvr_ok then 'raise_cvr'
        when brand_top then 'brand_top5'
        else 'tagged'
    end as platform_next_step,
    case
        when not enough_search_peers then 'category_too_small'
        when not is_search_peer then 'needs_search_traffic'
        when not stage_eligible then 'stage_not_eligible'
        when not search_cvr_ok then 'raise_search_cvr'
        when brand_top then 'brand_top5'
        else 'tagged'
    end as search_next_step
from criteria

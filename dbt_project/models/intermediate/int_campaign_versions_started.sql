-- rules.md §2: a version starts at `create` and at every `update` whose settings differ
-- from the running version. Pause/resume never start one, so an update is compared with
-- the previous create/update row: that row's settings are the running version's
-- (either it started the version or it was a no-op update of it).
with settings_rows as (
    select
        *,
        lag(daily_budget) over w as prev_budget,
        lag(target_roi) over w as prev_target_roi,
        lag(roi_choice) over w as prev_roi_choice,
        lag(is_tagged) over w as prev_is_tagged
    from {{ ref('stg_campaign_changes') }}
    where action in ('create', 'update')
    window w as (partition by campaign_id order by change_time, change_id)
)

select *
from settings_rows
where
    action = 'create'
    or daily_budget is distinct from prev_budget
    or target_roi is distinct from prev_target_roi
    or roi_choice is distinct from prev_roi_choice
    or is_tagged is distinct from prev_is_tagged

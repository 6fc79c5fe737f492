-- Adjustments to closed statements (issue 43, D46). A final statement closes its period:
-- what it issued never changes, so every later difference between a closed line and what
-- the warehouse now knows is an adjustment, with its reason and the night that first
-- showed it. `fullsite report adjustments` issues the open ones; once issued they are
-- held here as `issued` and the next difference is measured from issued + adjusted.

with register as (
    select * from {{ ref('stg_reports_register') }}
),

closed as (
    -- final statements, each closing its period (rebates: a month; compensation: close dates)
    select
        seq as statement_seq, stem as statement, statement as statement_kind, period,
        period_from, period_to, warehouse_built_at
    from register
    where
        statement in ('rebates', 'compensation') and not provisional
        and period_from is not null
),

issued_lines as (
    select * from {{ ref('stg_reports_issued_lines') }}
),

held as (
    -- what finance holds per closed line and figure: as issued, plus every adjustment issued,
    -- and the build the latest of them was drawn from (later changes explain a difference)
    select
        c.statement_seq, l.line_key, l.money_column,
        max(l.merchant_id) as merchant_id, sum(l.value) as issued_value,
        max(r.warehouse_built_at) as held_since
    from issued_lines as l
    inner join closed as c on c.statement_seq = coalesce(l.corrects_seq, l.register_seq)
    inner join register as r on l.register_seq = r.seq
    group by c.statement_seq, l.line_key, l.money_column
),

known as (
    -- every line a statement of the closed period would hold now
    select c.statement_seq, s.line_key, s.money_column, s.merchant_id, s.value as current_value
    from closed as c
    inner join {{ ref('statement_lines') }} as s
        on
            c.statement_kind = s.statement_kind
            and s.period_date between c.period_from and c.period_to
),

compared as (
    select
        coalesce(k.statement_seq, h.statement_seq) as statement_seq,
        coalesce(k.line_key, h.line_key) as line_key,
        coalesce(k.money_column, h.money_column) as money_column,
        coalesce(k.merchant_id, h.merchant_id) as merchant_id,
        coalesce(h.issued_value, 0) as issued_value,
        coalesce(k.current_value, 0) as current_value,
        h.held_since
    from known as k
    full join held as h
        on
            k.statement_seq = h.statement_seq
            and k.line_key = h.line_key
            and k.money_column = h.money_column
),

differences as (
    -- a difference first shown by this build was caused by what changed since the build
    -- before it (the published one this run replaces), or since what finance holds was drawn
    select
        d.*, greatest(
            coalesce(d.held_since, c.warehouse_built_at),
            coalesce({{ previous_build_at() }}, c.warehouse_built_at)
        ) as since
    from compared as d
    inner join closed as c on d.statement_seq = c.statement_seq
    where d.current_value <> d.issued_value
),

reasons as (
    -- what changed under the warehouse in that time
    select
        d.statement_seq, d.line_key, d.money_column,
        {{ join_distinct("case when ch.kind = 'rules' then ch.item end", ", ") }} as rules,
        {{ join_distinct("case when ch.kind = 'raw' then ch.item end", "; ") }} as raw
    from differences as d
    inner join {{ ref('stg_reports_changes') }} as ch on d.since < ch.recorded_at
    group by d.statement_seq, d.line_key, d.money_column
),

seen as (
    -- the night that first published each difference (one record per difference)
    select
        statement_seq, line_key, money_column, issued_value, current_value,
        min(first_seen_night) as first_seen_night,
        min_by(first_seen_run_id, first_seen_night) as first_seen_run_id,
        min_by(reason, first_seen_night) as reason
    from {{ ref('stg_reports_adjustments_seen') }}
    group by statement_seq, line_key, money_column, issued_value, current_value
),

open_adjustments as (
    select
        d.statement_seq, d.line_key, d.money_column, d.merchant_id, d.issued_value,
        d.current_value,
        'open' as status,
        coalesce(s.first_seen_night, {{ run_date() }}) as first_seen_night,
        coalesce(s.first_seen_run_id, {{ run_id() }}) as first_seen_run_id,
        coalesce(s.reason, case
            when coalesce(r.rules, '') <> '' and coalesce(r.raw, '') <> ''
                then concat('rules changed (', r.rules, '); raw history restated (', r.raw, ')')
            when coalesce(r.rules, '') <> '' then concat('rules changed (', r.rules, ')')
            when coalesce(r.raw, '') <> '' then concat('raw history restated (', r.raw, ')')
            else 'no rule or raw change recorded since the figure was issued'
        end) as reason,
        cast(null as bigint) as adjustment_seq,
        cast(null as string) as adjustment_statement,
        cast(null as {{ type_instant() }}) as adjusted_at
    from differences as d
    left join seen as s
        on
            d.statement_seq = s.statement_seq
            and d.line_key = s.line_key
            and d.money_column = s.money_column
            and d.issued_value = s.issued_value
            and d.current_value = s.current_value
    left join reasons as r
        on
            d.statement_seq = r.statement_seq
            and d.line_key = r.line_key
            and d.money_column = r.money_column
),

issued_adjustments as (
    select
        l.corrects_seq as statement_seq,
        l.line_key,
        l.money_column,
        l.merchant_id,
        l.was_value as issued_value,
        l.now_value as current_value,
        'issued' as status,
        l.first_seen_night,
        l.first_seen_run_id,
        l.reason,
        l.register_seq as adjustment_seq,
        l.statement as adjustment_statement,
        l.issued_at as adjusted_at
    from issued_lines as l
    where l.corrects_seq is not null
),

adjustments as (
    select * from open_adjustments
    union all
    select * from issued_adjustments
)

select
    concat(
        c.statement, '/', a.line_key, '/', a.money_column,
        case
            when a.adjustment_statement is not null
                then concat('@', a.adjustment_statement)
            else ''
        end
    ) as adjustment_id,
    a.status::string as status,
    c.statement::string as statement,
    a.statement_seq::bigint as statement_seq,
    c.statement_kind::string as statement_kind,
    c.period::string as period,
    a.line_key::string as line_key,
    a.merchant_id::string as merchant_id,
    a.money_column::string as money_column,
    a.issued_value::decimal(18, 2) as issued_value,
    a.current_value::decimal(18, 2) as current_value,
    (a.current_value - a.issued_value)::decimal(18, 2) as delta,
    -- what finance pays or recovers: the change of the figure a statement pays
    (case
        when a.money_column in ('rebate_amount', 'compensation_amount')
            then a.current_value - a.issued_value
        else 0
    end)::decimal(18, 2) as payable_delta,
    a.reason::string as reason,
    a.first_seen_night::date as first_seen_night,
    a.first_seen_run_id::string as first_seen_run_id,
    a.adjustment_seq::bigint as adjustment_seq,
    a.adjustment_statement::string as adjustment_statement,
    cast(a.adjusted_at as {{ type_instant() }}) as adjusted_at
from adjustments as a
inner join closed as c on a.statement_seq = c.statement_seq

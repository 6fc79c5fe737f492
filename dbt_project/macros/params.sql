{#- Every rule number comes from the rule_parameters seed (the one parameter source). A
    name the seed does not hold stops the build naming it (never a silent NULL); the test
    suite also checks every name used here against the seed (tests/unit/test_rules.py). -#}
{% macro param(name, type='decimal(18,4)') -%}
    {%- if not modules.re.fullmatch('[a-z0-9_]+', name) -%}
        {{ exceptions.raise_compiler_error("param(): '" ~ name ~ "' is not a parameter name") }}
    {%- endif -%}
    cast(coalesce((select value from {{ ref('rule_parameters') }} where parameter = '{{ name }}'),
                  {{ sql_error("unknown rule parameter " ~ name ~ " (dbt_project/seeds/rule_parameters.csv)") }}) as {{ type }})
{%- endmacro %}

{% macro int_param(name) -%}{{ param(name, 'integer') }}{%- endmacro %}

{#- The run's ingest date D: the var run_date, else the environment's FULLSITE_RUN_DATE.
    The orchestration passes it as a var of the build only, never of dbt's parse of the
    project: a var of the parse would make dbt parse the whole project again each night
    (D31, D34). -#}
{% macro run_date() -%}
    {%- set d = var("run_date", env_var("FULLSITE_RUN_DATE", "")) -%}
    {%- if not d and execute -%}
        {{ exceptions.raise_compiler_error("run_date is required: dbt … --vars '{run_date: YYYY-MM-DD}' or FULLSITE_RUN_DATE (the orchestration passes the night's ingest date)") }}
    {%- endif -%}
    cast('{{ d }}' as date)
{%- endmacro %}

{#- Cents of a DECIMAL(…,2) money value, exactly, as an exact integer (HUGEINT). -#}
{% macro cents(x) -%}cast(({{ x }}) * 100 as {{ type_exact_int() }}){%- endmacro %}

{#- A reported statistic of DOUBLEs (a mean, a median) to 8 decimals: the last bits of a
    sum of doubles depend on the order an engine adds them in (threads, DuckDB or Spark), so
    unrounded the same data would give different published values. -#}
{% macro report_round(x) -%}round({{ x }}, 8){%- endmacro %}

{#- a / b as a report ratio (DOUBLE), null on a zero denominator. Never decides anything. -#}
{% macro ratio(a, b) -%}case when ({{ b }}) <> 0 then cast({{ a }} as double) / cast({{ b }} as double) end{%- endmacro %}

{#- An exact number of cents as DECIMAL(18,2), exactly (DECIMAL / INT would be DOUBLE). -#}
{% macro from_cents(c) -%}cast(cast({{ c }} as decimal(38,0)) * cast(0.01 as decimal(3,2)) as decimal(18,2)){%- endmacro %}

{#- round2(factor × baseline_num / baseline_den) as DECIMAL(10,2), exactly (half away from
    zero; everything is non-negative here). -#}
{% macro roi_tier(factor_param) -%}
    {%- set f = "cast(" ~ param(factor_param) ~ " * 10000 as " ~ type_exact_int() ~ ")" -%}
    case when baseline_den > 0 then
        cast({{ from_cents(int_div("2 * " ~ f ~ " * baseline_num * 100 + 10000 * baseline_den", "2 * 10000 * baseline_den")) }} as decimal(10,2))
    end
{%- endmacro %}

{#- The first business date a nightly run may change: D - late_days for a night, the
    range's first ingest - late_days for a backfill. Set by the orchestration only when the
    staging warehouse starts as a copy of the published one (incremental models then
    rebuild from here), as the var or FULLSITE_REBUILD_FROM; unset, everything is built. -#}
{% macro rebuild_from() -%}
    cast('{{ var("rebuild_from", env_var("FULLSITE_REBUILD_FROM", "0001-01-01")) }}' as date)
{%- endmacro %}

{#- An incremental model whose stored rows matching `delete_where` are deleted before the
    model's new rows are appended (nothing is deleted on a first build). -#}
{% macro incremental_replacing(delete_where) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where " ~ delete_where ~ "{% endif %}"
    ) }}
{%- endmacro %}

{#- Incremental by date: rows of dates >= rebuild_from() are deleted before the new ones
    are appended (a date that lost every row is emptied too); older dates are untouched. -#}
{% macro rebuild_dates_config(column='business_date') -%}
    {#- meta: the publication fingerprints these tables date by date (D50) -#}
    {{ config(meta={'rebuilt_by_date': column}) }}
    {{ incremental_replacing(column ~ " >= {{ rebuild_from() }}") }}
{%- endmacro %}

{#- Incremental by settlement: rows already final are never rewritten; every other row is
    deleted and computed again. `final_condition` says which stored rows are settled. -#}
{% macro keep_final_config(final_condition) -%}
    {{ incremental_replacing("not (" ~ final_condition ~ ")") }}
{%- endmacro %}

{#- rules.md §4's trigger, exactly: gmv < protection_trigger × target_roi × spend, in exact
    integers (no division, nothing rounded); null when spend is 0 (a window without an ROI
    has no achievement). The one definition of "below the protection line". -#}
{% macro below_protection_line(gmv, spend, target_roi) -%}
    case when {{ spend }} > 0 then
        {{ cents(gmv) }} * 10000 * 100
        < {{ cents(spend) }} * cast({{ param('protection_trigger') }} * 10000 as {{ type_exact_int() }}) * {{ cents(target_roi) }}
    end
{%- endmacro %}

{#- The run that builds this warehouse (its run-log id), or null outside a run: the var
    run_id, else FULLSITE_RUN_ID (the orchestration's way, as run_date). -#}
{% macro run_id() -%}
    nullif('{{ var("run_id", env_var("FULLSITE_RUN_ID", "")) }}', '')
{%- endmacro %}

{#- When the build this run replaces was built (null: nothing published before): the var
    previous_build_at, else FULLSITE_PREVIOUS_BUILD_AT. A difference with a closed statement
    that this build shows first was caused by what changed since (finance.adjustments). -#}
{% macro previous_build_at() -%}
    cast(nullif('{{ var("previous_build_at", env_var("FULLSITE_PREVIOUS_BUILD_AT", "")) }}', '') as {{ type_instant() }})
{%- endmacro %}

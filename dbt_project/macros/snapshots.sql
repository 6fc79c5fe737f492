{#- The newest snapshot row of each ``key`` up to the run date, with the first and last
    snapshot dates that list it (the dimensions' "current attributes"). -#}
{% macro latest_snapshot(relation, key) -%}
    select
        *,
        min(snapshot_date) over (partition by {{ key }}) as first_seen_date,
        max(snapshot_date) over (partition by {{ key }}) as last_seen_date
    from {{ relation }}
    qualify row_number() over (partition by {{ key }} order by snapshot_date desc) = 1
{%- endmacro %}

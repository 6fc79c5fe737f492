{#- The key of a model: the columns unique together (and, with not_null, never null), on
    the rows of since_column >= rebuild_from() when a since_column is given — the dates a
    night rebuilds, for a view over the whole curated history whose older dates are settled. -#}
{% test unique_combination_of_columns(model, combination_of_columns, since_column=none, not_null=false) %}
with rows as (
    select * from {{ model }}
    {% if since_column %}where {{ since_column }} >= {{ rebuild_from() }}{% endif %}
)
select {{ combination_of_columns | join(', ') }}, count(*) as copies
from rows
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% if not_null %}
union all
select {{ combination_of_columns | join(', ') }}, count(*)
from rows
where {{ combination_of_columns | join(' is null or ') }} is null
group by all
{% endif %}
{% endtest %}

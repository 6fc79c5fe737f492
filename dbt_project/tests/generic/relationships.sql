{#- dbt's relationships test (every value of the column is a `field` of `to`), on the rows
    of since_column >= rebuild_from() when a since_column is given (a night's dates). -#}
{% test relationships(model, column_name, to, field, since_column=none) %}
select child.{{ column_name }}
from {{ model }} child
left join {{ to }} parent on child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null
  and parent.{{ field }} is null
  {% if since_column %}and child.{{ since_column }} >= {{ rebuild_from() }}{% endif %}
{% endtest %}

{#- Where DuckDB and Spark SQL differ, a macro dispatches (adapter.dispatch): default__ is
    the DuckDB form, spark__ the Spark SQL form. Everything else in the models is SQL both
    engines share (GROUP BY ALL, FILTER, ANTI JOIN, max_by, date ± integer, `::` casts). -#}

{#- An exact integer type wide enough for products of cents: HUGEINT / DECIMAL(38,0). -#}
{% macro type_exact_int() -%}{{ return(adapter.dispatch('type_exact_int', 'fullsite')()) }}{%- endmacro %}
{% macro default__type_exact_int() -%}hugeint{%- endmacro %}
{% macro spark__type_exact_int() -%}decimal(38,0){%- endmacro %}

{#- Integer division of non-negative exact integers (truncation = floor here). -#}
{% macro int_div(a, b) -%}{{ return(adapter.dispatch('int_div', 'fullsite')(a, b)) }}{%- endmacro %}
{% macro default__int_div(a, b) -%}(({{ a }}) // ({{ b }})){%- endmacro %}
{% macro spark__int_div(a, b) -%}(({{ a }}) div ({{ b }})){%- endmacro %}

{#- Business date of a UTC instant: its calendar date in Asia/Shanghai. -#}
{% macro business_date(ts) -%}{{ return(adapter.dispatch('business_date', 'fullsite')(ts)) }}{%- endmacro %}
{% macro default__business_date(ts) -%}cast(({{ ts }}) at time zone 'Asia/Shanghai' as date){%- endmacro %}
{% macro spark__business_date(ts) -%}to_date(from_utc_timestamp({{ ts }}, 'Asia/Shanghai')){%- endmacro %}

{#- 00:00 Asia/Shanghai of a business date, as an instant. -#}
{% macro local_midnight(d) -%}{{ return(adapter.dispatch('local_midnight', 'fullsite')(d)) }}{%- endmacro %}
{% macro default__local_midnight(d) -%}(cast({{ d }} as timestamp) at time zone 'Asia/Shanghai'){%- endmacro %}
{% macro spark__local_midnight(d) -%}to_utc_timestamp(cast({{ d }} as timestamp), 'Asia/Shanghai'){%- endmacro %}

{#- A FROM-clause item (table `alias`, one `column`) with one row per date from start to
    end inclusive, for each row of the relations before it (a lateral join). -#}
{% macro each_date(start, end, alias, column) -%}{{ return(adapter.dispatch('each_date', 'fullsite')(start, end, alias, column)) }}{%- endmacro %}
{% macro default__each_date(start, end, alias, column) -%}
    lateral (select cast(unnest(generate_series({{ start }}, {{ end }}, interval 1 day)) as date) as {{ column }}) as {{ alias }}
{%- endmacro %}
{% macro spark__each_date(start, end, alias, column) -%}
    lateral (select explode(sequence({{ start }}, {{ end }}, interval 1 day)) as {{ column }}) as {{ alias }}
{%- endmacro %}

{#- Sources: DuckDB reads the Parquet through the sources' `external_location`; Spark
    reads the folder itself (partition folders become columns, as in DuckDB's
    hive_partitioning). builtins.source is always called, so lineage is the same. -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.type == 'spark' -%}
        {{- return("parquet.`" ~ var('data_root', env_var('FULLSITE_DATA_ROOT', '../data/demo')) ~ "/" ~ source_name ~ "/" ~ table_name ~ "`") -}}
    {%- else -%}
        {{- return(relation) -}}
    {%- endif -%}
{%- endmacro %}

{#- A query error with this message (to stop a build on a value that must exist). -#}
{% macro sql_error(message) -%}{{ return(adapter.dispatch('sql_error', 'fullsite')(message)) }}{%- endmacro %}
{% macro default__sql_error(message) -%}error('{{ message }}'){%- endmacro %}
{% macro spark__sql_error(message) -%}raise_error('{{ message }}'){%- endmacro %}

{#- The distinct non-null values of `expr` in a group, sorted, joined by `sep` ('' when none). -#}
{% macro join_distinct(expr, sep) -%}{{ return(adapter.dispatch('join_distinct', 'fullsite')(expr, sep)) }}{%- endmacro %}
{% macro default__join_distinct(expr, sep) -%}
    coalesce(array_to_string(list_sort(list_distinct(list({{ expr }}))), '{{ sep }}'), '')
{%- endmacro %}
{% macro spark__join_distinct(expr, sep) -%}
    concat_ws('{{ sep }}', array_sort(collect_set({{ expr }})))
{%- endmacro %}

{#- An instant (a UTC timestamp): DuckDB's TIMESTAMP WITH TIME ZONE, Spark's TIMESTAMP. -#}
{% macro type_instant() -%}{{ return(adapter.dispatch('type_instant', 'fullsite')()) }}{%- endmacro %}
{% macro default__type_instant() -%}timestamptz{%- endmacro %}
{% macro spark__type_instant() -%}timestamp{%- endmacro %}

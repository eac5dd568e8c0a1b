{#
  The half-open partition window [min_date, max_date) of an incremental run.

  Dagster passes the window of the daily partitions being materialized as the vars min_date and
  max_date. Half-open bounds mean adjacent partitions never share a row (an inclusive
  `between` would count the boundary day twice). Both vars are checked here so a typo fails at
  compile time naming the variable, instead of silently selecting nothing.
#}
{% macro partition_window_bounds() -%}
  {%- set bounds = {} -%}
  {%- for name in ['min_date', 'max_date'] -%}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
      {{ exceptions.raise_compiler_error("dbt var " ~ name ~ " must be a date written YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- do bounds.update({name: value}) -%}
  {%- endfor -%}
  {%- if bounds['min_date'] >= bounds['max_date'] -%}
    {{ exceptions.raise_compiler_error("dbt vars min_date (" ~ bounds['min_date'] ~ ") must be before max_date (" ~ bounds['max_date'] ~ "): the window is half-open [min_date, max_date)") }}
  {%- endif -%}
  {{ return(bounds) }}
{%- endmacro %}

{% macro in_partition_window(column) -%}
  {%- set bounds = partition_window_bounds() -%}
  ({{ column }} >= cast('{{ bounds["min_date"] }}' as date) and {{ column }} < cast('{{ bounds["max_date"] }}' as date))
{%- endmacro %}

{#
  Small portable expressions used by several marts.

  PostgreSQL divides integers as integers (3 / 4 = 0) where DuckDB returns a double, so every
  ratio casts its numerator to a double first; a zero or missing denominator gives NULL rather
  than an error or a misleading 0.
#}
{% macro safe_ratio(numerator, denominator) -%}
  case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
       else cast({{ numerator }} as {{ type_double() }}) / ({{ denominator }}) end
{%- endmacro %}

{#
  A 64-bit float on both engines. Not dbt.type_float(): that is `float`, which DuckDB reads
  as a 32-bit REAL (2/3 = 0.6666667) while PostgreSQL reads it as double precision.
#}
{% macro type_double() -%}
  double precision
{%- endmacro %}

{# Rows where a condition holds; portable where FILTER (WHERE ...) is not. #}
{% macro count_where(condition) -%}
  {{ sum_as_bigint('case when ' ~ condition ~ ' then 1 else 0 end') }}
{%- endmacro %}

{#
  A sum of integers typed BIGINT on both engines: DuckDB widens sum(bigint) to HUGEINT and
  PostgreSQL to NUMERIC, which readers (Arrow, pandas) then get as int128 or decimal.
#}
{% macro sum_as_bigint(expression) -%}
  cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#
  A trivalent label as a word: true = match, false = no_match, null = uncertain.
  Words, because a NULL label is a real answer ("partial signals, review by hand") that
  equality, grouping and accepted_values tests would otherwise lose.
#}
{% macro verdict_of(label_column) -%}
  case when {{ label_column }} is null then 'uncertain'
       when {{ label_column }} then 'match'
       else 'no_match' end
{%- endmacro %}

{#
  The weighted consensus rule: the label whose summed weight is largest, by more than
  var consensus_tie_tolerance; a tie between the largest sums, or the uncertain sum on top,
  gives 'uncertain'. scout_assets/domain/consensus.py applies the same rule (TIE_TOLERANCE).
#}
{% macro weighted_verdict(weight_true, weight_false, weight_uncertain) -%}
  {%- set tolerance = var('consensus_tie_tolerance') -%}
  case
    when {{ weight_true }} > {{ weight_false }} + {{ tolerance }}
         and {{ weight_true }} > {{ weight_uncertain }} + {{ tolerance }} then 'match'
    when {{ weight_false }} > {{ weight_true }} + {{ tolerance }}
         and {{ weight_false }} > {{ weight_uncertain }} + {{ tolerance }} then 'no_match'
    else 'uncertain'
  end
{%- endmacro %}

{#
  Binary entropy in bits of a probability strictly between 0 and 1: 1 at 0.5, towards 0 at
  the ends (clamped at 1 against rounding). The review queue's measure of how unsure the
  consensus is.
#}
{% macro binary_entropy(p) -%}
  least(1.0, -(({{ p }}) * ln({{ p }}) + (1 - ({{ p }})) * ln(1 - ({{ p }}))) / ln(2.0))
{%- endmacro %}

{#
  A number as text with two decimals ('0.50'), the same on DuckDB and PostgreSQL (a plain
  cast of a double differs between them, and PostgreSQL has no round(double, n)).
#}
{% macro two_decimals(expression) -%}
  cast(cast({{ expression }} as numeric(12, 2)) as {{ dbt.type_string() }})
{%- endmacro %}

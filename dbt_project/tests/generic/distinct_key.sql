{#
  Fails for every combination of `columns` that occurs on more than one row: the generic test
  for a composite key (the built-in `unique` takes one column).
#}
{% test distinct_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

-- Every line finance was issued, one money column a row (fullsite/ledger.py, D46).
select
    cast(register_seq as bigint) as register_seq,
    statement,
    line_key,
    merchant_id,
    money_column,
    cast(value as decimal(18, 2)) as value,
    cast(corrects_seq as bigint) as corrects_seq,
    cast(was_value as decimal(18, 2)) as was_value,
    cast(now_value as decimal(18, 2)) as now_value,
    reason,
    cast(first_seen_night as date) as first_seen_night,
    first_seen_run_id,
    cast(issued_at as {{ type_instant() }}) as issued_at
from {{ source('reports', 'issued_lines') }}

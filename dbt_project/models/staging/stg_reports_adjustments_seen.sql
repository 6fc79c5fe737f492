-- Each difference with a closed line, as the night that first published it saw it (D46).
select
    cast(statement_seq as bigint) as statement_seq,
    line_key,
    money_column,
    cast(issued_value as decimal(18, 2)) as issued_value,
    cast(current_value as decimal(18, 2)) as current_value,
    cast(first_seen_night as date) as first_seen_night,
    first_seen_run_id,
    reason
from {{ source('reports', 'adjustments_seen') }}

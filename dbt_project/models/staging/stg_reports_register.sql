-- The finance ledger's register (fullsite/ledger.py, D46): one row per issue.
select
    cast(seq as bigint) as seq,
    statement,
    stem,
    period,
    provisional,
    cast(period_from as date) as period_from,
    cast(period_to as date) as period_to,
    cast(warehouse_built_at as {{ type_instant() }}) as warehouse_built_at
from {{ source('reports', 'register') }}

-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(ingest_date as date) as ingest_date,
    table_name, rows_in, accepted, duplicates, quarantined
from {{ source('curated', 'dq_ingest_reconciliation') }}
where cast(ingest_date as date) <= {{ run_date() }}

-- The partition folder is the date column (its type differs by engine: cast it).
select
    cast(ingest_date as date) as ingest_date,
    table_name, reason, rows
from {{ source('curated', 'dq_quarantine_summary') }}
where cast(ingest_date as date) <= {{ run_date() }}

-- Quarantined rows per event table, ingest date and reason.
select table_name, ingest_date, reason, rows
from {{ ref('stg_dq_quarantine_summary') }}

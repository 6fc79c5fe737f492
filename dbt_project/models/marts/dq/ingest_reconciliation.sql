-- rows_in = accepted + duplicates + quarantined, per event table and ingest date.
select table_name, ingest_date, rows_in, accepted, duplicates, quarantined
from {{ ref('stg_dq_ingest_reconciliation') }}

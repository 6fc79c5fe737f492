select * replace (cast(ingest_date as date) as ingest_date)
from {{ source('curated', 'dq_ingest_reconciliation') }}
where cast(ingest_date as date) <= {{ run_date() }}

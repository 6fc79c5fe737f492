-- rows_in = accepted + duplicates + quarantined, per event table and ingest date.
{{ rebuild_dates_config('ingest_date') }}
select table_name, ingest_date, rows_in, accepted, duplicates, quarantined
from {{ ref('stg_dq_ingest_reconciliation') }}
{% if is_incremental() %}where ingest_date >= {{ rebuild_from() }}{% endif %}

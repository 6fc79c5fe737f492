-- Quarantined rows per event table, ingest date and reason.
{{ rebuild_dates_config('ingest_date') }}
select table_name, ingest_date, reason, rows
from {{ ref('stg_dq_quarantine_summary') }}
{% if is_incremental() %}where ingest_date >= {{ rebuild_from() }}{% endif %}

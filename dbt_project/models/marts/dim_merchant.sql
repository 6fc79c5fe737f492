-- One row per merchant: the attributes of its latest snapshot up to the run date, and when
-- it was first and last seen in the snapshots.
with latest as ({{ latest_snapshot(ref('stg_merchants'), 'merchant_id') }}
)

select
    merchant_id, merchant_name, merchant_tier, registered_date, plan_quota,
    first_seen_date, last_seen_date
from latest

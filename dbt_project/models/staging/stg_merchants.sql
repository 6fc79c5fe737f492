-- Daily full snapshots of the merchants, one row per merchant and snapshot date.
select
    cast(dt as date) as snapshot_date,
    merchant_id, merchant_name, merchant_tier, registered_date, plan_quota
from {{ source('raw', 'merchants') }}
where cast(dt as date) <= {{ run_date() }}

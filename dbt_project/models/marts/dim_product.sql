-- One row per product: the attributes of its latest snapshot up to the run date, with its
-- merchant's name, and when it was first and last seen in the snapshots.
with latest as ({{ latest_snapshot(ref('stg_products'), 'product_id') }}
)

select
    p.product_id, p.merchant_id, m.merchant_name, p.category, p.is_standard, p.listed_date, p.price,
    p.first_seen_date, p.last_seen_date
from latest as p
left join {{ ref('dim_merchant') }} as m using (merchant_id)

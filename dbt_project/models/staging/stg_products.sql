-- Daily full snapshots of the products, one row per product and snapshot date.
select
    cast(dt as date) as snapshot_date,
    product_id, merchant_id, category, is_standard, listed_date, price
from {{ source('raw', 'products') }}
where cast(dt as date) <= {{ run_date() }}

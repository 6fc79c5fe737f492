-- One row per business date from the first date the warehouse holds to the run date: the
-- semantic layer's time spine (MetricFlow joins and aggregates time through it).
with bounds as (
    select min(business_date) as first_date from {{ ref('product_lifecycle_daily') }}
)

select d.date_day
from bounds as b, {{ each_date('b.first_date', run_date(), 'd', 'date_day') }}
where b.first_date is not null

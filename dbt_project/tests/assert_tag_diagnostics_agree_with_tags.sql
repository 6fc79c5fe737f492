-- product_tag_diagnostics says `tagged` exactly when product_tags_daily lists the product
-- with that tag (issue 23): any row returned is a disagreement.
select coalesce(d.product_id, t.product_id) as product_id, coalesce(d.business_date, t.business_date) as business_date,
       d.platform_next_step, d.search_next_step, t.platform_recommended, t.search_bestseller
from {{ ref('product_tag_diagnostics') }} d
full join {{ ref('product_tags_daily') }} t using (product_id, business_date)
where d.product_id is null
   or (d.platform_next_step = 'tagged') is distinct from coalesce(t.platform_recommended, false)
   or (d.search_next_step = 'tagged') is distinct from coalesce(t.search_bestseller, false)
   or d.platform_recommended is distinct from coalesce(t.platform_recommended, false)
   or d.search_bestseller is distinct from coalesce(t.search_bestseller, false)

-- Every final or void 7-day window has exactly one row in finance.compensation_claims
-- (and no claim exists without its window): finance pays from that table.
select w.campaign_version_id, w.status, count(c.campaign_version_id) as claim_rows
from {{ ref('campaign_roi_7d') }} w
left join {{ ref('compensation_claims') }} c using (campaign_version_id)
where w.status in ('final', 'void')
group by all
having count(c.campaign_version_id) <> 1
union all
select c.campaign_version_id, c.status, 0
from {{ ref('compensation_claims') }} c
anti join (select campaign_version_id from {{ ref('campaign_roi_7d') }} where status in ('final', 'void')) w
  using (campaign_version_id)

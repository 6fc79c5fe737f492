-- depends_on: {{ ref('rule_parameters') }}
-- No window counts more spend days than it needs, nor closes outside its 15 calendar days.
select *
from {{ ref('campaign_roi_7d') }}
where spend_days > {{ int_param('window_spend_days') }}
   or (close_date is not null
       and close_date not between start_date and start_date + {{ int_param('window_max_days') }} - 1)

from . import sales_funnel_apply_stages

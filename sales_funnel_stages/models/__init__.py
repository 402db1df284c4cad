from . import sales_funnel_step

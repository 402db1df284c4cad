from . import sales_funnel_report

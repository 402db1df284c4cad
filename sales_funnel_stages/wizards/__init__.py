from . import sales_funnel_apply_stages
from . import sales_funnel_export

from . import sales_funnel_sql_view
from . import sales_funnel_report
from . import sales_funnel_diagnosis
from . import sales_funnel_weight
from . import sales_funnel_forecast
from . import sales_funnel_slippage
from . import sales_funnel_influence

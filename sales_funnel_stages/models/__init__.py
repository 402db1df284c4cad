from . import sales_funnel_step
from . import crm_stage
from . import crm_team
from . import crm_lead
from . import res_company
from . import res_config_settings
from . import res_partner

from . import test_access
from . import test_funnel_step
from . import test_install_hooks
from . import test_lead_funnel
from . import test_man
from . import test_priority_tier
from . import test_stage_weights

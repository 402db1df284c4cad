"""crm_stage_probability's own test classes, run once more after the
install, with this bridge and the funnel in the registry (tag
`oca_with_funnel`; see sales_funnel_stages/tests/twins.py)."""

import odoo.addons.crm_stage_probability.tests as oca_tests
from odoo.addons.sales_funnel_stages.tests.twins import post_install_twins

globals().update(post_install_twins(oca_tests, "oca_with_funnel", __name__))

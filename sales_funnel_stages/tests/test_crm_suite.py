"""crm's own test classes, run once more after the install, in a registry
that holds this addon (see `twins.py`).

Tagged `crm_with_funnel`: `make test` runs them on their own,
`--test-tags=crm_with_funnel/sales_funnel_stages`. Their budgets, query
counts included, are crm's own.
"""

import odoo.addons.crm.tests as crm_tests

from .twins import post_install_twins

globals().update(post_install_twins(crm_tests, "crm_with_funnel", __name__))

"""crm's own test classes, run once more after the install, in a registry
that holds this addon.

Odoo runs a module's at-install tests while it loads that module, before
the modules that depend on it: crm's own run never meets the funnel's code.
Each test class of crm gets a post-install twin here, tagged
`crm_with_funnel` and not `standard` (`make test` runs them on their own:
`--test-tags=crm_with_funnel/sales_funnel_stages`). Their budgets, query
counts included, are crm's own.
"""

import importlib
import inspect
import pkgutil

from odoo.tests import tagged
from odoo.tests.common import BaseCase

import odoo.addons.crm.tests as crm_tests


def _twins():
    """{name: post-install twin} of every test class defined in crm's tests
    (`TestUi_test_crm_ui`: crm's `TestUi` of `test_crm_ui.py`)."""
    twins = {}
    for info in pkgutil.iter_modules(crm_tests.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{crm_tests.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, BaseCase):
                continue
            # Odoo's loader takes a class's own test methods only, unless told
            # named after its module too: two of crm's modules hold a TestUi
            twin = type(
                f"{name}_{info.name}", (cls,), {"__module__": __name__, "allow_inherited_tests_method": True}
            )
            twins[twin.__name__] = tagged("post_install", "-at_install", "-standard", "crm_with_funnel")(twin)
    return twins


globals().update(_twins())

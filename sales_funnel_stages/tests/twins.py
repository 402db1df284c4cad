"""Post-install twins of another module's test classes.

Odoo runs a module's at-install tests while it loads that module, before
the modules that depend on it: crm's own tests (or any module's) never meet
this addon's code there. A twin is a subclass that runs the same tests
after the install, in the registry where everything is loaded.
"""

import importlib
import inspect
import pkgutil

from odoo.tests import tagged
from odoo.tests.common import BaseCase


def post_install_twins(package, tag, into, prefix=""):
    """{name: post-install twin} of every test class defined in the test
    modules of `package` (`TestUi_test_crm_ui`: `TestUi` of
    `test_crm_ui.py`; `prefix` before it), for the test module named `into`,
    tagged `tag` and not `standard`: they run only when asked for, with
    `--test-tags=<tag>/<the addon of into>`."""
    twins = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, BaseCase):
                continue
            # Odoo's loader takes a class's own test methods only, unless told;
            # named after its module too: two of crm's modules hold a TestUi
            twin = type(
                f"{prefix}{name}_{info.name}",
                (cls,),
                {"__module__": into, "allow_inherited_tests_method": True, **_foreign_tests(cls, package)},
            )
            twins[twin.__name__] = tagged("post_install", "-at_install", "-standard", tag)(twin)
    return twins


def _foreign_tests(cls, package):
    """The test methods `cls` inherits from classes outside `package` (a
    website test case under a website_crm one), hidden from the twin: they
    are the other module's tests, not this one's."""
    own = [base for base in cls.__mro__ if base.__module__.startswith(f"{package.__name__}.")]
    return {
        attr: None
        for attr in dir(cls)
        if attr.startswith("test")
        and callable(getattr(cls, attr))
        and not any(attr in vars(base) for base in own)
    }

"""The test classes of Odoo's modules built on crm (this module's
dependencies), run once more after the install, in a registry that holds
Sales Funnel Stages (tag `peers_with_funnel`; see
sales_funnel_stages/tests/twins.py). Twins are named after their module:
`sale_crm__TestCrmSale_test_crm_sale`."""

import importlib

from odoo.modules.module import get_manifest

from odoo.addons.sales_funnel_stages.tests.twins import post_install_twins

PEERS = [
    module for module in get_manifest("test_sales_funnel_peers")["depends"] if module != "sales_funnel_stages"
]

for _peer in PEERS:
    globals().update(
        post_install_twins(
            importlib.import_module(f"odoo.addons.{_peer}.tests"), "peers_with_funnel", __name__, f"{_peer}__"
        )
    )

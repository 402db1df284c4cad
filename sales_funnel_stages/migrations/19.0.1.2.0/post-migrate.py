"""The new columns of constant value keep it as their database default
(installs before 19.0.1.2.0 dropped it; see hooks.set_column_defaults)."""

from odoo.addons.sales_funnel_stages.hooks import set_column_defaults


def migrate(cr, version):
    set_column_defaults(cr)

"""The funnel steps are noupdate data: an upgrade creates the key-step
activity types and plans, but would not give the existing steps their plan
and guidance. The file is loaded once more as at install, for them."""

from odoo import SUPERUSER_ID, api
from odoo.tools.convert import convert_file

from odoo.addons.sales_funnel_stages.hooks import set_column_defaults


def migrate(cr, version):
    set_column_defaults(cr)  # the team's new key-steps setting
    env = api.Environment(cr, SUPERUSER_ID, {})
    convert_file(
        env, "sales_funnel_stages", "data/mail_activity_plan_data.xml", {}, mode="init", noupdate=True
    )

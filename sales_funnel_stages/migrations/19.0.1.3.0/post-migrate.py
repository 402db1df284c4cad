"""The funnel steps are noupdate data: an upgrade creates the key-step
activity types and plans, but leaves the existing steps as they are. Each
step gets its plan and its guidance once, as the step data file gives them,
where it has none (the file's other values, weights and gates the managers
may have tuned, are not read again)."""

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import file_path

from odoo.addons.sales_funnel_stages.hooks import set_column_defaults


def migrate(cr, version):
    set_column_defaults(cr)  # the team's new key-steps setting
    env = api.Environment(cr, SUPERUSER_ID, {})
    data = etree.parse(file_path("sales_funnel_stages/data/sales_funnel_step_data.xml"))
    for record in data.iterfind("record"):
        step = env.ref(f"sales_funnel_stages.{record.get('id')}", raise_if_not_found=False)
        if not step:
            continue
        values = {}
        if not step.guidance:
            values["guidance"] = record.findtext("field[@name='guidance']")
        if not step.activity_plan_id:
            plan = record.find("field[@name='activity_plan_id']").get("ref")
            values["activity_plan_id"] = env.ref(f"sales_funnel_stages.{plan}").id
        step.write(values)

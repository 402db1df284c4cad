"""The weekly mails moved from the export wizard to a model of their own
(sales.funnel.weekly.report): the scheduled action, a noupdate record, is
pointed at it."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("sales_funnel_stages.ir_cron_weekly_funnel_report", raise_if_not_found=False)
    if cron:
        cron.write(
            {"model_id": env["ir.model"]._get_id("sales.funnel.weekly.report"), "code": "model._cron_send()"}
        )

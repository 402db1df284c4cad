from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    funnel_build_progress = fields.Char(
        string="Funnel History Build", compute="_compute_funnel_build_progress"
    )
    funnel_currency_id = fields.Many2one(related="company_id.currency_id", string="Funnel Currency")
    funnel_tier_big_amount = fields.Monetary(
        related="company_id.funnel_tier_big_amount", currency_field="funnel_currency_id", readonly=False
    )
    funnel_tier_short_days = fields.Integer(related="company_id.funnel_tier_short_days", readonly=False)
    funnel_size_edge_1 = fields.Monetary(
        related="company_id.funnel_size_edge_1", currency_field="funnel_currency_id", readonly=False
    )
    funnel_size_edge_2 = fields.Monetary(
        related="company_id.funnel_size_edge_2", currency_field="funnel_currency_id", readonly=False
    )
    funnel_size_edge_3 = fields.Monetary(
        related="company_id.funnel_size_edge_3", currency_field="funnel_currency_id", readonly=False
    )
    funnel_health_months = fields.Integer(related="company_id.funnel_health_months", readonly=False)
    funnel_health_lumpy_share = fields.Float(related="company_id.funnel_health_lumpy_share", readonly=False)
    funnel_health_min_open = fields.Integer(related="company_id.funnel_health_min_open", readonly=False)
    funnel_health_busy_ratio = fields.Float(related="company_id.funnel_health_busy_ratio", readonly=False)
    funnel_health_activity_days = fields.Integer(
        related="company_id.funnel_health_activity_days", readonly=False
    )
    funnel_health_small_share = fields.Float(related="company_id.funnel_health_small_share", readonly=False)
    funnel_health_idle_days = fields.Integer(related="company_id.funnel_health_idle_days", readonly=False)
    funnel_weight_months = fields.Integer(related="company_id.funnel_weight_months", readonly=False)
    funnel_weight_drift_points = fields.Float(related="company_id.funnel_weight_drift_points", readonly=False)
    funnel_weight_min_decided = fields.Integer(related="company_id.funnel_weight_min_decided", readonly=False)
    funnel_plan_min_transitions = fields.Integer(
        related="company_id.funnel_plan_min_transitions", readonly=False
    )
    funnel_weekly_report = fields.Boolean(
        string="Weekly Funnel Report",
        config_parameter="sales_funnel_stages.weekly_report",
        help="Every Monday, email each team leader the funnel workbook of the previous week, and each "
        "salesperson a summary of their own funnel.",
    )

    def set_values(self):
        result = super().set_values()
        self.env["sales.funnel.weekly.report"]._switch(self.funnel_weekly_report)
        return result

    def _compute_funnel_build_progress(self):
        progress = self.env["sales.funnel.build"].get_progress()
        self.funnel_build_progress = progress and progress["message"]

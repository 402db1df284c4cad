from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

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

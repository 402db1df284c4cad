from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class ResCompany(models.Model):
    _inherit = "res.company"

    # Funnel method, section 5: what is "big" and what is "short" is the
    # company's call; these defaults match the report's 30,000 size bucket
    # edge and a quarter.
    funnel_tier_big_amount = fields.Monetary(
        string="Big Opportunity From",
        currency_field="currency_id",
        default=30000.0,
        help="Opportunities with an expected revenue at or above this amount are big (tiers A and C).",
    )
    funnel_tier_short_days = fields.Integer(
        string="Short Close Within (Days)",
        default=90,
        help="Opportunities expected to close within this many days are short (tiers A and B); "
        "without an expected closing date an opportunity is long.",
    )

    # Deal-size buckets of the funnel analysis (funnel method, section 3):
    # small < edge 1 <= medium < edge 2 <= large < edge 3 <= very large.
    funnel_size_edge_1 = fields.Monetary(
        string="Small Deals Below", currency_field="currency_id", default=10000.0
    )
    funnel_size_edge_2 = fields.Monetary(
        string="Medium Deals Below", currency_field="currency_id", default=30000.0
    )
    funnel_size_edge_3 = fields.Monetary(
        string="Large Deals Below", currency_field="currency_id", default=50000.0
    )

    @api.constrains("funnel_size_edge_1", "funnel_size_edge_2", "funnel_size_edge_3")
    def _check_funnel_size_edges(self):
        for company in self:
            edges = [company.funnel_size_edge_1, company.funnel_size_edge_2, company.funnel_size_edge_3]
            if edges[0] <= 0 or edges != sorted(set(edges)):
                raise ValidationError(
                    self.env._(
                        "The deal-size edges of %(company)s must be positive and increasing.",
                        company=company.name,
                    )
                )

    @api.constrains("funnel_tier_big_amount", "funnel_tier_short_days")
    def _check_funnel_tier_thresholds(self):
        for company in self:
            if company.funnel_tier_big_amount < 0 or company.funnel_tier_short_days < 0:
                raise ValidationError(
                    self.env._(
                        "The tier thresholds of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    def write(self, vals):
        result = super().write(vals)
        if {"funnel_tier_big_amount", "funnel_tier_short_days"} & set(vals):
            self.env["crm.lead"]._funnel_refresh_values(
                SQL("COALESCE(lead.company_id, %s) IN %s", self.env.company.id, tuple(self.ids))
            )
        return result

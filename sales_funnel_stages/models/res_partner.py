from odoo import api, fields, models
from odoo.tools import SQL

from .crm_lead import TIERS


class ResPartner(models.Model):
    _inherit = "res.partner"

    funnel_best_tier = fields.Selection(
        TIERS,
        string="Best Tier",
        compute="_compute_funnel_best_tier",
        store=True,
        help="Best priority tier (A first) among the customer's open opportunities.",
    )

    @api.depends("opportunity_ids.priority_tier", "opportunity_ids.won_status", "opportunity_ids.active")
    def _compute_funnel_best_tier(self):
        for partner in self:
            tiers = partner.opportunity_ids.filtered(
                lambda lead: lead.active and lead.won_status == "pending"
            ).mapped("priority_tier")
            partner.funnel_best_tier = min(filter(None, tiers), default=False)

    @api.model
    def _funnel_refresh_best_tier(self, lead_where=None):
        """`_compute_funnel_best_tier` in one UPDATE, for the customers of
        the leads matching `lead_where` (an SQL condition on alias `lead`)."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner AS target
                   SET funnel_best_tier = fresh.tier
                  FROM (
                        SELECT partner.id,
                               (SELECT MIN(opportunity.priority_tier)
                                  FROM crm_lead AS opportunity
                                 WHERE opportunity.partner_id = partner.id
                                   AND opportunity.type = 'opportunity'
                                   AND opportunity.active
                                   AND opportunity.won_status = 'pending') AS tier
                          FROM res_partner AS partner
                         WHERE partner.id IN (SELECT lead.partner_id FROM crm_lead AS lead WHERE %(where)s)
                       ) AS fresh
                 WHERE fresh.id = target.id
                   AND target.funnel_best_tier IS DISTINCT FROM fresh.tier
                """,
                where=lead_where or SQL("TRUE"),
            )
        )
        self.invalidate_model(["funnel_best_tier"])

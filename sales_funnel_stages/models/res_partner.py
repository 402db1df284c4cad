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
                WITH affected AS (
                    SELECT DISTINCT lead.partner_id AS id
                      FROM crm_lead AS lead
                     WHERE lead.partner_id IS NOT NULL AND %(where)s
                ), best AS (
                    SELECT opportunity.partner_id, MIN(opportunity.priority_tier) AS tier
                      FROM crm_lead AS opportunity
                      JOIN affected ON affected.id = opportunity.partner_id
                     WHERE opportunity.type = 'opportunity'
                       AND opportunity.active
                       AND opportunity.won_status = 'pending'
                     GROUP BY opportunity.partner_id
                )
                UPDATE res_partner AS target
                   SET funnel_best_tier = best.tier
                  FROM affected
                  LEFT JOIN best ON best.partner_id = affected.id
                 WHERE target.id = affected.id
                   AND target.funnel_best_tier IS DISTINCT FROM best.tier
                """,
                where=lead_where or SQL("TRUE"),
            )
        )
        self.invalidate_model(["funnel_best_tier"])

from odoo import api, fields, models

from .crm_lead import TIERS


class ResPartner(models.Model):
    _inherit = "res.partner"

    funnel_best_tier = fields.Selection(
        TIERS,
        string="Best Tier",
        compute="_compute_funnel_best_tier",
        search="_search_funnel_best_tier",
        help="Best priority tier (A first) among the customer's open opportunities that you may see.",
    )

    funnel_referral_count = fields.Integer(
        string="Referrals Given",
        compute="_compute_funnel_referral_count",
        groups="sales_team.group_sale_salesman",
        help="Leads and opportunities this customer referred, that you may see.",
    )

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_funnel_referral_count(self):
        ids = self._origin.ids
        groups = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._read_group([("funnel_referred_by_id", "in", ids)], ["funnel_referred_by_id"], ["__count"])
            if ids
            else []
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.funnel_referral_count = counts.get(partner._origin.id, 0)

    def action_funnel_referrals(self):
        """The leads this customer referred, and what became of them (the
        lost ones included)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update(
            name=self.env._("Referrals of %(customer)s", customer=self.display_name),
            domain=[("funnel_referred_by_id", "=", self.id)],
            context={"active_test": False, "default_funnel_referred_by_id": self.id},
            view_mode="list,form",
            views=[(False, "list"), (False, "form")],
        )
        return action

    def _funnel_best_tiers(self, partner_ids=None):
        """{partner id: best tier} over the open opportunities the reader
        may read (crm's record rules and the allowed companies apply), of
        the given customers (all when None). Computed when read, not stored:
        a stored value would be one for every reader, and tell a reader the
        tier of opportunities they may not see."""
        domain = [
            ("type", "=", "opportunity"),
            ("won_status", "=", "pending"),
            ("priority_tier", "!=", False),
        ]
        if partner_ids is not None:
            domain.append(("partner_id", "in", list(partner_ids)))
        else:
            domain.append(("partner_id", "!=", False))
        groups = self.env["crm.lead"]._read_group(domain, ["partner_id"], ["priority_tier:min"])
        return {partner.id: tier for partner, tier in groups}

    @api.depends("opportunity_ids.priority_tier", "opportunity_ids.won_status", "opportunity_ids.active")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_funnel_best_tier(self):
        tiers = self._funnel_best_tiers(self._origin.ids) if self._origin.ids else {}
        for partner in self:
            partner.funnel_best_tier = tiers.get(partner._origin.id, False)

    def _search_funnel_best_tier(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        matching = [partner_id for partner_id, tier in self._funnel_best_tiers().items() if tier in value]
        return [("id", operator, matching)]

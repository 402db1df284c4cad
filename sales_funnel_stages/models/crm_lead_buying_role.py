from odoo import api, fields, models

# Funnel method, section 6.
BUYING_ROLES = [
    ("decision_maker", "Decision maker"),
    ("technical", "Technical selector"),
    ("buyer", "Buyer"),
    ("user", "User"),
]
ATTITUDES = [("supporter", "Supporter"), ("neutral", "Neutral"), ("opponent", "Opponent")]


class CrmLeadBuyingRole(models.Model):
    """A contact of the customer in a buying role on an opportunity, with
    their attitude towards us (funnel method, section 6).

    Recording a decision maker answers MAN's Authority: we reach who
    decides. The opportunity's Authority is then set to Yes (removing the
    decision maker later does not change the answer back).
    """

    _name = "crm.lead.buying.role"
    _description = "Opportunity Buying Role"
    _order = "lead_id, sequence, id"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, index=True)
    function = fields.Char(related="partner_id.function")
    role = fields.Selection(
        BUYING_ROLES,
        required=True,
        help="Decision maker: final approval, budget, veto; asks what return the business gets. Technical "
        "selector: sets the criteria, can say no but not yes. Buyer: cost, process and terms. User: judges "
        "the effect on their work.",
    )
    attitude = fields.Selection(
        ATTITUDES,
        required=True,
        default="neutral",
        help="Supporter: wants us to win and acts for us inside the customer's organisation.",
    )
    note = fields.Char(help="What they showed, what they need to hear, how credible they are inside.")
    company_id = fields.Many2one(related="lead_id.company_id", store=True)

    _lead_partner_role_unique = models.Constraint(
        "UNIQUE(lead_id, partner_id, role)", "A contact holds a buying role once per opportunity."
    )

    @api.model_create_multi
    def create(self, vals_list):
        roles = super().create(vals_list)
        roles._answer_authority()
        return roles

    def write(self, vals):
        result = super().write(vals)
        if {"role", "lead_id", "partner_id"} & set(vals):
            self._answer_authority()
        return result

    def _answer_authority(self):
        """A decision maker is known: Authority is answered Yes, and who
        decides is noted when nothing was."""
        for role in self.filtered(lambda role: role.role == "decision_maker"):
            lead = role.lead_id
            values = {}
            if lead.man_authority != "yes":
                values["man_authority"] = "yes"
            if not lead.man_authority_note:
                values["man_authority_note"] = role.partner_id.name
            if values:
                lead.write(values)

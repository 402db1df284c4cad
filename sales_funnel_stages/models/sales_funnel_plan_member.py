import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SalesFunnelPlanMember(models.Model):
    """A salesperson's share of a team plan: their part of the target and
    of the deals, and their coverage at each funnel step."""

    _name = "sales.funnel.plan.member"
    _inherit = ["sales.funnel.finite.mixin", "sales.funnel.plan.share.mixin"]
    _description = "Sales Funnel Plan Salesperson"
    _order = "plan_id, share desc, id"

    plan_id = fields.Many2one("sales.funnel.plan", required=True, index=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", string="Salesperson", required=True)
    share = fields.Float(
        string="Share (%)", digits=(5, 2), help="The salesperson's part of the plan; the shares sum to 100 %."
    )
    currency_id = fields.Many2one(related="plan_id.currency_id")
    target_amount = fields.Monetary(string="Target", compute="_compute_targets")
    deals_needed = fields.Integer(string="Deals", compute="_compute_targets")
    coverage_ids = fields.One2many("sales.funnel.plan.coverage", "member_id")

    _plan_user_unique = models.Constraint(
        "UNIQUE(plan_id, user_id)", "A salesperson appears once in a funnel plan."
    )

    @api.depends("share", "plan_id.target_amount", "plan_id.deals_needed")
    def _compute_targets(self):
        for member in self:
            member.target_amount = member.plan_id.target_amount * member.share / 100.0
            member.deals_needed = math.ceil(round(member.plan_id.deals_needed * member.share / 100.0, 6))

    @api.constrains("share")
    def _check_share(self):
        for member in self:
            if not 0 <= member.share <= 100:
                raise ValidationError(
                    self.env._(
                        "The share of %(user)s must be between 0 and 100 %%, not %(share)s %%.",
                        user=member.user_id.name,
                        share=member.share,
                    )
                )

    @api.constrains("user_id", "plan_id")
    def _check_member_of_team(self):
        for member in self:
            team = member.plan_id.team_id
            if team and member.user_id not in team.member_ids | team.user_id:
                raise ValidationError(
                    self.env._(
                        "%(user)s is not a member of the sales team “%(team)s”: add them to the team first.",
                        user=member.user_id.name,
                        team=team.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        members = super().create(vals_list)
        self.env["sales.funnel.plan.coverage"].create(
            [
                {"member_id": member.id, "step_line_id": line.id}
                for member in members
                for line in member.plan_id.step_ids
            ]
        )
        return members

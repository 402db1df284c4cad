import math

from odoo import api, fields, models


class SalesFunnelPlanCoverage(models.Model):
    """What one salesperson of a team plan needs at a funnel step (their
    share of the team's need, rounded up) against what they have now."""

    _name = "sales.funnel.plan.coverage"
    _description = "Sales Funnel Plan Coverage"
    _order = "plan_id, user_id, sequence, id"

    member_id = fields.Many2one("sales.funnel.plan.member", required=True, index=True, ondelete="cascade")
    step_line_id = fields.Many2one("sales.funnel.plan.step", required=True, index=True, ondelete="cascade")
    plan_id = fields.Many2one(related="member_id.plan_id", store=True, index=True)
    user_id = fields.Many2one(related="member_id.user_id", store=True, string="Salesperson")
    step_id = fields.Many2one(related="step_line_id.step_id", store=True, string="Funnel Step")
    sequence = fields.Integer(related="step_line_id.sequence", store=True)
    share = fields.Float(related="member_id.share")
    required_count = fields.Integer(
        string="Needed",
        compute="_compute_required_count",
        store=True,
        help="The salesperson's share of what the step needs, rounded up.",
    )
    current_count = fields.Integer(string="Now", compute="_compute_current")
    coverage = fields.Float(string="Coverage (%)", digits=(16, 1), compute="_compute_current")
    gap = fields.Integer(compute="_compute_current")

    _member_step_unique = models.Constraint(
        "UNIQUE(member_id, step_line_id)", "A salesperson has one coverage line per step of a plan."
    )

    @api.depends("member_id.share", "step_line_id.required_count")
    def _compute_required_count(self):
        for line in self:
            line.required_count = math.ceil(
                round(line.step_line_id.required_count * line.member_id.share / 100.0, 6)
            )

    @api.depends("required_count")
    def _compute_current(self):
        counts = {plan: plan._current_counts() for plan in self.plan_id}
        for line in self:
            current = counts.get(line.plan_id, {}).get((line.user_id.id, line.step_id.id), 0)
            line.current_count = current
            line.coverage = 100.0 * current / line.required_count if line.required_count else 100.0
            line.gap = max(line.required_count - current, 0)

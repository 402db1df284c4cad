import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import formatLang

from ..definitions import DEAL_SIZES


class SalesFunnelPlanSize(models.Model):
    """A deal-size bucket of a plan (the company's deal-size edges): the
    deals planned in it, and the mix of the deals won in the reference
    period beside them (funnel method, section 3)."""

    _name = "sales.funnel.plan.size"
    _inherit = ["sales.funnel.finite.mixin", "sales.funnel.plan.share.mixin"]
    _description = "Sales Funnel Plan Deal Size"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one("sales.funnel.plan", required=True, index=True, ondelete="cascade")
    deal_size = fields.Selection(DEAL_SIZES, required=True)
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    bucket = fields.Char(string="Amounts", compute="_compute_bucket")
    deal_count = fields.Integer(string="Deals (Plan)", help="Deals planned in the bucket (deal plan).")
    share = fields.Float(
        string="Mix (%)",
        digits=(5, 2),
        compute="_compute_share",
        store=True,
        readonly=False,
        help="Share of the deals in the bucket (size mix); by default the historical mix. The mix sums to "
        "100 %.",
    )
    planned_count = fields.Integer(
        string="Deals Planned",
        compute="_compute_planned_count",
        store=True,
        help="Deal plan: the count entered. Size mix: the deals needed split by the mix (largest "
        "remainders, so that they add up).",
    )
    planned_share = fields.Float(string="Planned (%)", digits=(5, 1), compute="_compute_planned_share")
    historical_count = fields.Integer(string="Won (History)", compute="_compute_history")
    historical_share = fields.Float(string="Won Mix (%)", digits=(5, 1), compute="_compute_history")

    _plan_size_unique = models.Constraint("UNIQUE(plan_id, deal_size)", "A plan has one line per deal size.")

    @api.depends("deal_size")
    def _compute_sequence(self):
        order = [size for size, _label in DEAL_SIZES]
        for line in self:
            line.sequence = order.index(line.deal_size) if line.deal_size in order else 0

    @api.depends("deal_size", "plan_id.company_id")
    def _compute_bucket(self):
        for line in self:
            company = line.plan_id.company_id or self.env.company
            edges = [company.funnel_size_edge_1, company.funnel_size_edge_2, company.funnel_size_edge_3]
            amounts = [formatLang(self.env, edge, digits=0) for edge in edges]
            line.bucket = {
                "small": self.env._("Below %(edge)s", edge=amounts[0]),
                "medium": self.env._("%(low)s to %(high)s", low=amounts[0], high=amounts[1]),
                "large": self.env._("%(low)s to %(high)s", low=amounts[1], high=amounts[2]),
                "very_large": self.env._("%(edge)s and above", edge=amounts[2]),
            }.get(line.deal_size, False)

    def _history_by_plan(self):
        return {plan: plan._historical_mix() for plan in self.plan_id}

    @api.depends(
        "plan_id.team_id", "plan_id.user_id", "plan_id.reference_date_from", "plan_id.reference_date_to"
    )
    def _compute_share(self):
        """The historical mix (largest remainders to two decimals, so that
        it sums to 100 %); an even mix without history."""
        history = self._history_by_plan()
        for plan, mix in history.items():
            lines = plan.size_ids
            weights = [mix.get(line.deal_size, 0) for line in lines]
            shares = self._split(weights if any(weights) else [1] * len(lines), 10000)
            for line, share in zip(lines, shares, strict=True):
                if line in self:
                    line.share = share / 100.0
        for line in self.filtered(lambda line: not line.plan_id):
            line.share = 0.0

    @api.depends("plan_id.plan_mode", "plan_id.deals_needed", "plan_id.size_ids.share", "deal_count")
    def _compute_planned_count(self):
        for plan in self.plan_id:
            lines = plan.size_ids
            if plan.plan_mode == "deals":
                counts = lines.mapped("deal_count")
            elif plan.plan_mode == "mix":
                counts = self._split([line.share for line in lines], plan.deals_needed)
            else:
                counts = [0] * len(lines)
            for line, count in zip(lines, counts, strict=True):
                if line in self:
                    line.planned_count = count
        for line in self.filtered(lambda line: not line.plan_id):
            line.planned_count = 0

    @api.depends("planned_count", "plan_id.size_ids.planned_count")
    def _compute_planned_share(self):
        for line in self:
            total = sum(line.plan_id.size_ids.mapped("planned_count"))
            line.planned_share = 100.0 * line.planned_count / total if total else 0.0

    @api.depends(
        "plan_id.team_id", "plan_id.user_id", "plan_id.reference_date_from", "plan_id.reference_date_to"
    )
    def _compute_history(self):
        history = self._history_by_plan()
        for line in self:
            mix = history.get(line.plan_id, {})
            total = sum(mix.values())
            line.historical_count = mix.get(line.deal_size, 0)
            line.historical_share = 100.0 * line.historical_count / total if total else 0.0

    @staticmethod
    def _split(weights, total):
        """`total` split in proportion to `weights` in whole units, by
        largest remainders: the parts add up to `total`."""
        weight_sum = sum(weights)
        if not weight_sum or not total:
            return [0] * len(weights)
        exact = [total * weight / weight_sum for weight in weights]
        parts = [math.floor(round(value, 6)) for value in exact]
        order = sorted(range(len(weights)), key=lambda index: (parts[index] - exact[index], index))
        for index in order[: total - sum(parts)]:
            parts[index] += 1
        return parts

    @api.constrains("share", "deal_count")
    def _check_values(self):
        for line in self:
            if line.deal_count < 0:
                raise ValidationError(
                    self.env._(
                        "The deal count of a size bucket cannot be negative, not %(count)s.",
                        count=line.deal_count,
                    )
                )
            if not 0 <= line.share <= 100:
                raise ValidationError(
                    self.env._(
                        "A size mix share must be between 0 and 100 %%, not %(share)s %%.", share=line.share
                    )
                )

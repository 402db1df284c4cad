from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Command

from .sales_funnel_plan import required_before

CONVERSION_SOURCES = [
    ("measured", "Measured"),
    ("weights", "From weights"),
    ("manual", "Typed in"),
]


class SalesFunnelPlanStep(models.Model):
    """A funnel step of a plan: the conversion from this step to the next
    (an input), the opportunities the step needs (the output) and what the
    team or salesperson has in it now.

    The last step is the won one: it needs the plan's deals, and what the
    team has there is the deals won in the plan's period.
    """

    _name = "sales.funnel.plan.step"
    _inherit = ["sales.funnel.finite.mixin"]
    _description = "Sales Funnel Plan Step"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one("sales.funnel.plan", required=True, index=True, ondelete="cascade")
    step_id = fields.Many2one("sales.funnel.step", string="Funnel Step", required=True, ondelete="cascade")
    sequence = fields.Integer(related="step_id.sequence", store=True)
    is_won_step = fields.Boolean(compute="_compute_is_won_step", help="The last funnel step: won deals.")
    conversion = fields.Float(
        string="Conversion to Next (%)",
        digits=(5, 2),
        compute="_compute_conversion",
        store=True,
        readonly=False,
        help="Step-to-step conversion: the share of the opportunities of this step that reach the next "
        "one. Not the step's probability of closing (see Implied Closing).",
    )
    conversion_source = fields.Selection(
        CONVERSION_SOURCES,
        string="Source",
        compute="_compute_conversion",
        store=True,
        readonly=False,
        help="Measured: from the team's opportunities that left the step in the last 12 months. From "
        "weights: weight of this step ÷ weight of the next. Typed in: entered on the plan.",
    )
    measured_conversion = fields.Float(
        string="Measured (%)",
        digits=(5, 2),
        compute="_compute_history",
        help="Of the opportunities that left the step in the last 12 months (advanced or lost), the share "
        "that advanced. Those still in the step are left out, unlike the funnel analysis' conversion to "
        "next, which divides by all that entered.",
    )
    measured_transitions = fields.Integer(
        string="Left the Step",
        compute="_compute_history",
        help="Opportunities that left the step in the last 12 months, advanced or lost: the measure's base.",
    )
    weight_conversion = fields.Float(string="From Weights (%)", digits=(5, 2), compute="_compute_history")
    closing_probability = fields.Float(
        string="Implied Closing (%)",
        digits=(5, 2),
        compute="_compute_closing_probability",
        help="The chance of an opportunity of this step to be won, that the conversions imply (their "
        "product down to the won step): the other reading of the funnel percentages.",
    )
    required_count = fields.Integer(
        string="Needed",
        compute="_compute_required_count",
        store=True,
        help="Opportunities the step needs: the next step's need divided by the conversion, rounded up. "
        "The won step needs the plan's deals.",
    )
    current_count = fields.Integer(
        string="Now",
        compute="_compute_current",
        help="Open opportunities in the step now; for the won step, the deals won in the plan's period.",
    )
    coverage = fields.Float(string="Coverage (%)", digits=(16, 1), compute="_compute_current")
    gap = fields.Integer(
        compute="_compute_current", help="Opportunities missing: needed minus now, if positive."
    )

    _plan_step_unique = models.Constraint("UNIQUE(plan_id, step_id)", "A plan has one line per funnel step.")

    @api.depends("step_id")
    def _compute_is_won_step(self):
        won_step = self.env["sales.funnel.step"]._won_step()
        for line in self:
            line.is_won_step = line.step_id == won_step

    @api.depends("plan_id.team_id", "plan_id.user_id", "step_id")
    def _compute_conversion(self):
        for line in self:
            line.update(line._default_conversion())

    @api.depends("plan_id.team_id", "plan_id.user_id", "step_id")
    def _compute_history(self):
        defaults = {plan: plan._conversion_defaults() for plan in self.plan_id}
        for line in self:
            values = defaults.get(line.plan_id, {}).get(line.step_id.id, {})
            line.measured_conversion = values.get("measured_conversion", 0.0)
            line.measured_transitions = values.get("measured_transitions", 0)
            line.weight_conversion = values.get("weight_conversion", 0.0)

    def _default_conversion(self):
        """{conversion, conversion_source} of the line by default: measured once enough
        opportunities left the step (company setting), else from the
        weights. The won step converts nothing further. Read from the
        measures shown beside it, measured once per plan."""
        self.ensure_one()
        if self.is_won_step:
            return {"conversion": 100.0, "conversion_source": False}
        minimum = (self.plan_id.company_id or self.env.company).funnel_plan_min_transitions
        if self.measured_transitions >= max(minimum, 1) and self.measured_conversion > 0:
            return {"conversion": self.measured_conversion, "conversion_source": "measured"}
        return {"conversion": self.weight_conversion, "conversion_source": "weights"}

    def _plan_lines_backwards(self):
        """The lines of the plans of `self`, from the won step backwards."""
        return {
            plan: plan.step_ids.sorted(lambda line: (line.sequence, line.id), reverse=True)
            for plan in self.plan_id
        }

    @api.depends("plan_id.deals_needed", "plan_id.step_ids.conversion", "plan_id.step_ids.sequence")
    def _compute_required_count(self):
        """From the won step backwards: required(k) = ceil(required(k+1) /
        conversion(k -> k+1))."""
        needs = {}
        for plan, lines in self._plan_lines_backwards().items():
            required = plan.deals_needed
            for position, line in enumerate(lines):
                if position:
                    required = required_before(required, line.conversion)
                needs[line] = required
        for line in self:
            line.required_count = needs.get(line, 0)

    @api.depends("plan_id.step_ids.conversion", "plan_id.step_ids.sequence")
    def _compute_closing_probability(self):
        """The product of the conversions from the step down to the won step."""
        probabilities = {}
        for lines in self._plan_lines_backwards().values():
            probability = 100.0
            for position, line in enumerate(lines):
                if position:
                    probability = probability * line.conversion / 100.0
                probabilities[line] = probability
        for line in self:
            line.closing_probability = probabilities.get(line, 0.0)

    @api.depends("required_count")
    def _compute_current(self):
        counts = {plan: plan._current_counts() for plan in self.plan_id}
        for line in self:
            current = counts.get(line.plan_id, {}).get((False, line.step_id.id), 0)
            line.current_count = current
            line.coverage = 100.0 * current / line.required_count if line.required_count else 100.0
            line.gap = max(line.required_count - current, 0)

    @api.constrains("conversion", "step_id")
    def _check_conversion(self):
        for line in self:
            if line.is_won_step:
                continue
            if not 0 < line.conversion <= 100:
                raise ValidationError(
                    self.env._(
                        "The conversion from “%(step)s” to the next step must be more than 0 %% and at most "
                        "100 %%, not %(rate)s %%.",
                        step=line.step_id.name,
                        rate=line.conversion,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        # every salesperson of the plan gets the step
        coverage = [
            {"member_id": member.id, "step_line_id": line.id}
            for line in lines
            for member in line.plan_id.member_ids
        ]
        self.env["sales.funnel.plan.coverage"].create(coverage)
        return lines

    @api.onchange("conversion")
    def _onchange_conversion(self):
        """Typed in the form: the conversion is the user's."""
        for line in self.filtered(lambda line: not line.is_won_step):
            line.conversion_source = "manual"

    def write(self, vals):
        if "conversion" in vals and "conversion_source" not in vals:
            vals = dict(vals, conversion_source="manual")
        return super().write(vals)

    def _apply_default_conversions(self):
        """Measure again, and take the default conversions."""
        self.invalidate_recordset(["measured_conversion", "measured_transitions", "weight_conversion"])
        for plan, lines in self.grouped("plan_id").items():
            plan.write(
                {
                    "step_ids": [
                        Command.update(line.id, line._default_conversion())
                        for line in lines
                        if not line.is_won_step
                    ]
                }
            )

from itertools import pairwise

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..definitions import WON_STEP


class SalesFunnelStep(models.Model):
    """One of the six canonical funnel steps every team's stages map onto.

    The steps are the fixed reference that makes the funnels of different
    teams comparable (funnel method, section 1): teams keep their own
    `crm.stage` records and map each of them onto a step.
    """

    _name = "sales.funnel.step"
    _inherit = ["sales.funnel.finite.mixin"]
    _description = "Sales Funnel Step"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        readonly=True,
        help="Technical key of the step; reports and data refer to it.",
    )
    sequence = fields.Integer(required=True, default=10)
    weight = fields.Float(
        string="Default Weight (%)",
        required=True,
        digits=(5, 2),
        help="Probability weight of the step, 0 to 100. Stages mapped to the "
        "step take this weight unless they set their own.",
    )
    band = fields.Selection(
        [
            ("tofu", "Top of funnel (TOFU)"),
            ("mofu", "Middle of funnel (MOFU)"),
            ("bofu", "Bottom of funnel (BOFU)"),
            ("after_sales", "After-sales (influence funnel)"),
        ],
        required=True,
    )
    description = fields.Text(
        string="Key Steps",
        translate=True,
        help="The checklist a salesperson works through in this step.",
    )

    guidance = fields.Text(
        translate=True,
        help="What this step is for and how to work it, shown on the opportunity's form.",
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        string="Key Steps Plan",
        domain=[("res_model", "=", "crm.lead")],
        help="The activities of the step's key steps, proposed or scheduled (as the sales team "
        "chooses) when an opportunity enters the step; their progress shows on the opportunity.",
    )

    requires_need = fields.Boolean(
        string="Requires Need Confirmed",
        help="Stage gate: an opportunity enters this step only once its Need (MAN) is confirmed.",
    )
    requires_authority = fields.Boolean(
        string="Requires Authority Identified",
        help="Stage gate: an opportunity enters this step only once who holds the Authority (MAN) "
        "is identified.",
    )

    requires_key_steps = fields.Boolean(
        string="Requires Previous Key Steps Done",
        help="Stage gate: an opportunity moves forward into this step only once the key-step activities "
        "of the step it leaves are done.",
    )

    target_conversion = fields.Float(
        string="Target Conversion (%)",
        digits=(5, 2),
        help="Ideal share of the opportunities entering this step that reach the next one; "
        "the funnel analysis shows the actual rate against it.",
    )

    _code_unique = models.Constraint(
        "UNIQUE(code)",
        "Each funnel step code must be unique.",
    )
    _weight_range = models.Constraint(
        "CHECK(weight >= 0 AND weight <= 100)",
        "A funnel step weight must be between 0 and 100.",
    )
    _target_conversion_range = models.Constraint(
        "CHECK(target_conversion >= 0 AND target_conversion <= 100)",
        "A target conversion must be between 0 and 100.",
    )

    @api.constrains("target_conversion")
    def _check_target_conversion(self):
        for step in self:
            if not 0 <= step.target_conversion <= 100:
                raise ValidationError(
                    self.env._(
                        "The target conversion of “%(step)s” must be between 0 and 100, not %(rate)s.",
                        step=step.name,
                        rate=step.target_conversion,
                    )
                )

    @api.constrains("weight", "sequence")
    def _check_weight(self):
        """Weights are percentages and may not decrease along the funnel: a
        later step is at least as likely to close as an earlier one."""
        for step in self:
            if not 0 <= step.weight <= 100:
                raise ValidationError(
                    self.env._(
                        "The weight of “%(step)s” must be between 0 and 100, not %(weight)s.",
                        step=step.name,
                        weight=step.weight,
                    )
                )
        steps = self.search([])
        for previous, step in pairwise(steps):
            if previous.sequence < step.sequence and step.weight < previous.weight:
                raise ValidationError(
                    self.env._(
                        "The weight of “%(step)s” (%(weight)s%%) is lower than "
                        "the weight of the step before it, “%(previous)s” "
                        "(%(previous_weight)s%%). Weights may not decrease "
                        "along the funnel.",
                        step=step.name,
                        weight=step.weight,
                        previous=previous.name,
                        previous_weight=previous.weight,
                    )
                )

    @api.model
    def _won_step(self):
        """The step that won stages map onto (`WON_STEP`)."""
        return self.sudo().search([("code", "=", WON_STEP)], limit=1)

    @api.model
    @tools.ormcache()
    def _funnel_positions(self):
        """{step id: (position, sequence, gated)}, positions in the funnel's
        order, gated: the step requires Need, Authority or the previous key
        steps. Read on every recorded move, cached until the steps change."""
        steps = self.sudo().search([])
        return {
            step.id: (position, step.sequence, step._funnel_is_gated())
            for position, step in enumerate(steps, start=1)
        }

    def _funnel_is_gated(self):
        self.ensure_one()
        return self.requires_need or self.requires_authority or self.requires_key_steps

    @api.model_create_multi
    def create(self, vals_list):
        steps = super().create(vals_list)
        self.env.registry.clear_cache()
        return steps

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    def write(self, vals):
        reordered = "sequence" in vals and any(step.sequence != vals["sequence"] for step in self)
        stages = self.env["crm.stage"]
        if "weight" in vals:
            stages = stages.search([("funnel_step_id", "in", self.ids)])
        old_weights = stages._funnel_weights()
        result = super().write(vals)
        if reordered or {"requires_need", "requires_authority", "requires_key_steps"} & vals.keys():
            self.env.registry.clear_cache()
        stages._funnel_propagate_weights(old_weights)
        if reordered:
            # moves are named, and summaries built, by the steps' order:
            # once, however many steps a drag in the list renumbers
            self.env["sales.funnel.lead.step"]._mark_pending(reordered=True)
        return result

from odoo import api, fields, models


class CrmStage(models.Model):
    """crm_stage_probability's stage probability is the stage's funnel weight.

    Both modules set an opportunity's probability from its stage on a stage
    change; with two values per stage, Odoo's prorated revenue and the
    funnel's weighted revenue disagreed. The probability now reads the
    weight, and typing a probability gives the stage a custom weight.
    """

    _inherit = "crm.stage"

    probability = fields.Float(
        compute="_compute_probability",
        inverse="_inverse_probability",
        store=True,
        readonly=False,
        # crm_stage_probability's default (10) would give every new stage a
        # custom weight of 10: a new stage's probability is its weight
        default=None,
        # computed right after the row is inserted, not before it
        required=False,
    )

    @api.depends("funnel_weight")
    def _compute_probability(self):
        for stage in self:
            stage.probability = stage.funnel_weight

    def _inverse_probability(self):
        # one write per value: the order of the weights is checked on the
        # stages as they all are after it (a multi-edit of the list)
        changed = self.filtered(lambda stage: stage.probability != stage.funnel_weight)
        for probability in set(changed.mapped("probability")):
            changed.filtered(lambda stage, value=probability: stage.probability == value).write(
                {"funnel_weight_custom": True, "funnel_weight": probability}
            )

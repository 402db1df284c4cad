from collections import defaultdict

from odoo import api, models

from odoo.addons.crm.models.crm_lead import CrmLead as CrmLeadOfCrm


class CrmLead(models.Model):
    """Whose probability rule holds for a lead: the stage's weight in a
    stage-weight team; elsewhere crm_stage_probability's on the stages that
    "Change Probability Automatically" (where the stage's probability is its
    weight), and crm's own scoring on the others."""

    _inherit = "crm.lead"

    @api.model_create_multi
    def create(self, vals_list):
        """crm_stage_probability defaults a new lead's probability to that
        of the pipeline's first stage, whatever the lead's stage (in a won
        stage, crm then refuses the lead): a lead created without one takes
        the probability its own stage's rule gives."""
        vals_list = [dict(vals) for vals in vals_list]
        untyped = []
        for index, vals in enumerate(vals_list):
            if "probability" in vals:
                continue
            if self.env["crm.stage"].browse(vals.get("stage_id")).is_won:
                vals["probability"] = 100.0  # crm's check runs before any later write
            else:
                untyped.append(index)
        leads = super().create(vals_list)
        # an archived lead (imported lost) keeps what crm gave it
        leads.browse([leads[index].id for index in untyped]).filtered(
            lambda lead: lead.stage_id and lead.active
        )._funnel_follow_stage_rule()
        return leads

    def _funnel_follow_stage_rule(self):
        weighted = self._funnel_follows_stage_weight()
        weighted._funnel_apply_stage_weights()
        by_probability = defaultdict(lambda: self.browse())
        for lead in self - weighted:
            stage = lead.stage_id
            by_probability[stage.probability if stage.on_change else lead.automated_probability] |= lead
        for probability, leads in by_probability.items():
            leads.probability = probability

    @api.depends("probability", "automated_probability", "stage_id.on_change", "stage_id.probability")
    def _compute_is_automated_probability(self):  # pylint: disable=missing-return
        """crm_stage_probability calls a lead at its stage's probability not
        automated, on any stage; with the stage's probability being its
        weight, that would hold a lead of an automatic team at the weight
        for good. Its rule holds on the stages that apply it."""
        on_change = self.filtered(lambda lead: lead.stage_id.on_change)
        super(CrmLead, on_change)._compute_is_automated_probability()
        # crm's own rule, past crm_stage_probability's override of it
        CrmLeadOfCrm._compute_is_automated_probability(self - on_change)

from odoo import api, fields, models


class SalesFunnelApplyStages(models.TransientModel):
    _name = "sales.funnel.apply.stages"
    _description = "Apply the Standard Funnel Stages to a Team"

    team_id = fields.Many2one("crm.team", string="Sales Team", required=True)
    missing_step_ids = fields.Many2many(
        "sales.funnel.step",
        string="Steps Without a Stage",
        compute="_compute_missing_step_ids",
        help="Funnel steps the team's pipeline has no stage for: a stage is created for each.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "crm.team" and "team_id" in fields_list:
            values.setdefault("team_id", self.env.context.get("active_id"))
        return values

    @api.depends("team_id")
    def _compute_missing_step_ids(self):
        steps = self.env["sales.funnel.step"].search([])
        for wizard in self:
            present = (
                self.env["crm.stage"]._funnel_pipeline(wizard.team_id).funnel_step_id
                if wizard.team_id
                else steps
            )
            wizard.missing_step_ids = steps - present

    def action_apply(self):
        self.ensure_one()
        return self.team_id.action_funnel_apply_standard_stages()

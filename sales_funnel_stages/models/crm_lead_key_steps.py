"""Key steps: each funnel step's checklist (funnel method, section 1) as an
activity plan, proposed or scheduled as an opportunity enters the step; its
progress is counted from the plan's activity types, done (Odoo archives a
done activity) or still to do."""

from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    funnel_step_guidance = fields.Text(related="stage_id.funnel_step_id.guidance", string="Step Guidance")
    funnel_key_step_mode = fields.Selection(related="team_id.funnel_key_step_mode", string="Team's Key Steps")
    funnel_key_steps_total = fields.Integer(
        string="Key Steps", compute="_compute_funnel_key_steps", help="Key steps of the current funnel step."
    )
    funnel_key_steps_done = fields.Integer(
        string="Key Steps Done",
        compute="_compute_funnel_key_steps",
        help="Key steps of the current funnel step whose activity is done.",
    )
    funnel_key_steps_planned = fields.Boolean(
        compute="_compute_funnel_key_steps",
        help="An activity of the current step's key steps was scheduled, done or not.",
    )

    @api.depends("stage_id", "activity_ids")
    def _compute_funnel_key_steps(self):
        done, planned = self._funnel_key_step_activities(self.stage_id.funnel_step_id.activity_plan_id)
        for lead in self:
            types = lead.stage_id.funnel_step_id.activity_plan_id.template_ids.activity_type_id
            lead.funnel_key_steps_total = len(types)
            lead.funnel_key_steps_done = len(types & done.get(lead.id, types.browse()))
            lead.funnel_key_steps_planned = bool(types & planned.get(lead.id, types.browse()))

    def _funnel_key_step_activities(self, plans):
        """({lead id: activity types done}, {lead id: activity types
        scheduled, done or not}) among the key steps of `plans`: one query."""
        types = plans.template_ids.activity_type_id
        done, planned = {}, {}
        lead_ids = [lead_id for lead_id in self.ids if lead_id]
        if not types or not lead_ids:
            return done, planned
        # counted, not shown: the leads are the user's to read, their activities may be another's
        groups = (
            self.env["mail.activity"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", lead_ids),
                    ("activity_type_id", "in", types.ids),
                ],
                ["res_id", "activity_type_id", "active"],
            )
        )
        empty = types.browse()
        for lead_id, activity_type, active in groups:
            planned[lead_id] = planned.get(lead_id, empty) | activity_type
            if not active:
                done[lead_id] = done.get(lead_id, empty) | activity_type
        return done, planned

    def _funnel_missing_key_steps(self, step):
        """Names of the key steps of the step before `step` (in the funnel's
        order) that this lead has not done: the gate of a step that requires
        them."""
        self.ensure_one()
        positions = self.env["sales.funnel.step"]._funnel_positions()
        position = positions.get(step.id, (0,))[0]
        previous = step.browse(other for other, (at, *_rest) in positions.items() if at == position - 1)
        types = previous.activity_plan_id.template_ids.activity_type_id
        done = self._funnel_key_step_activities(previous.activity_plan_id)[0].get(self.id, types.browse())
        return (types - done).mapped("name")

    # ------------------------------------------------------------ scheduling

    def action_funnel_plan_key_steps(self):
        """The key steps proposed on the form: scheduled in one click."""
        self._funnel_schedule_key_steps()

    def _funnel_schedule_key_steps(self):
        """Schedule the key-step plan of each lead's current step, through
        Odoo's plan launcher, for the lead's salesperson (else whoever does
        it), in their language; leads that have this plan's activities
        already (a step entered again) keep them."""
        leads = self.filtered(lambda lead: lead.stage_id.funnel_step_id.activity_plan_id and lead.active)
        leads = leads.filtered(lambda lead: not lead.funnel_key_steps_planned)
        today = fields.Date.context_today(self)

        def plan_and_user(lead):
            return lead.stage_id.funnel_step_id.activity_plan_id, lead.user_id or self.env.user

        for (plan, user), group in leads.grouped(plan_and_user).items():
            self.env["mail.activity.schedule"].with_context(lang=user.lang).create(
                {
                    "res_model": self._name,
                    "res_ids": str(group.ids),
                    "plan_id": plan.id,
                    "plan_on_demand_user_id": user.id,
                    "plan_date": today,
                }
            ).action_schedule_plan()

    def _funnel_entered_step(self, steps_before):
        """The leads entered another step (`steps_before`: {lead id: step
        before}): schedule its key steps where their team says so."""
        entered = self.filtered(
            lambda lead: (
                lead.team_id.funnel_key_step_mode == "schedule"
                and lead.stage_id.funnel_step_id
                and lead.stage_id.funnel_step_id != steps_before.get(lead.id)
            )
        )
        entered._funnel_schedule_key_steps()

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._funnel_entered_step({})
        return leads

    def write(self, vals):
        if "stage_id" not in vals:
            return super().write(vals)
        steps_before = {lead.id: lead.stage_id.funnel_step_id for lead in self}
        result = super().write(vals)
        self._funnel_entered_step(steps_before)
        return result

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..definitions import WON_STEP


class CrmTeam(models.Model):
    _inherit = "crm.team"

    funnel_probability_mode = fields.Selection(
        [("automatic", "Automatic (Odoo)"), ("stage_weight", "Stage weights")],
        string="Probability",
        default="automatic",
        required=True,
        help="Automatic: Odoo's predictive lead scoring. Stage weights: moving an opportunity to a "
        "stage sets its probability to the stage's weight; a probability typed by hand is kept "
        "until the next stage change.",
    )
    use_funnel_gates = fields.Boolean(
        string="Enforce Stage Gates",
        help="Refuse to move an opportunity forward into a funnel step whose gates it does not "
        "meet (Need confirmed, Authority identified). Moving backward is always allowed.",
    )
    funnel_key_step_mode = fields.Selection(
        [("propose", "Propose"), ("schedule", "Schedule automatically"), ("none", "Nothing")],
        string="Key Steps",
        default="propose",
        required=True,
        help="When an opportunity enters a funnel step that has a key-steps plan: propose the plan on "
        "its form (one click schedules it), schedule it at once for the salesperson, or nothing.",
    )

    # Quota basis and funnel health (funnel method, sections 2 and 8)
    funnel_open_count = fields.Integer(string="Active Opportunities", compute="_compute_funnel_pipeline")
    funnel_weighted_pipeline = fields.Monetary(
        string="Weighted Pipeline",
        currency_field="currency_id",
        compute="_compute_funnel_pipeline",
        help="Quota basis: the sum of the weighted revenue of the team's open opportunities.",
    )
    funnel_diagnosis_ids = fields.Many2many(
        "sales.funnel.diagnosis", string="Funnel Health", compute="_compute_funnel_diagnosis"
    )
    funnel_warnings = fields.Text(compute="_compute_funnel_diagnosis")

    def _compute_funnel_pipeline(self):
        # in the team's currency: its leads' amounts converted (a team without
        # a company may hold leads of companies with other currencies)
        totals = {}
        for company, teams in self.grouped(lambda team: team.company_id).items():
            rows = (
                self.env["crm.lead"]
                .with_company(company or self.env.company)
                ._read_group(
                    [("team_id", "in", teams._origin.ids), ("type", "=", "opportunity"),
                     ("won_status", "=", "pending")],
                    ["team_id"],
                    ["__count", "weighted_revenue:sum_currency"],
                )
            )  # fmt: skip
            totals.update({team: (count, weighted) for team, count, weighted in rows})
        for team in self:
            team.funnel_open_count, team.funnel_weighted_pipeline = totals.get(team._origin, (0, 0.0))

    def _compute_funnel_diagnosis(self):
        Diagnosis = self.env["sales.funnel.diagnosis"]
        teams = self._origin.ids
        rows = (
            Diagnosis.with_context(funnel_team_ids=teams).search([("team_id", "in", teams)])
            if teams
            else Diagnosis
        )
        warnings = rows.filtered(lambda row: row.level == "team")._warnings()
        for team in self:
            team_rows = rows.filtered(lambda row, team=team: row.team_id == team._origin)
            team.funnel_diagnosis_ids = team_rows
            team.funnel_warnings = (
                "\n".join(
                    warning["message"]
                    for row in team_rows.filtered(lambda row: row.level == "team")
                    for warning in warnings.get(row.id, [])
                )
                or False
            )

    @api.readonly
    def action_funnel_health(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_stages.sales_funnel_diagnosis_action"
        )
        action["domain"] = [("team_id", "in", self.ids)]
        return action

    @api.readonly
    def action_funnel_plans(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("sales_funnel_stages.sales_funnel_plan_action")
        action["domain"] = [("team_id", "in", self.ids)]
        action["context"] = {"default_team_id": self[:1].id}
        return action

    def write(self, vals):
        if "funnel_probability_mode" not in vals:
            return super().write(vals)
        old_modes = {team.id: team.funnel_probability_mode for team in self}
        result = super().write(vals)
        self.filtered(
            lambda team: team.funnel_probability_mode != old_modes[team.id]
        )._funnel_apply_probability_mode()
        return result

    def _funnel_apply_probability_mode(self):
        """A team switched mode: its open opportunities follow at once."""
        for team in self:
            leads = self.env["crm.lead"].search([("team_id", "=", team.id), ("won_status", "=", "pending")])
            if team.funnel_probability_mode == "stage_weight":
                leads._funnel_apply_stage_weights()
            else:
                leads._compute_probabilities()

    def action_funnel_apply_standard_stages(self):
        created = self.env["crm.stage"]
        for team in self:
            created |= team._funnel_apply_standard_stages()
        message = (
            self.env._("%(count)s stages created; existing stages were kept.", count=len(created))
            if created
            else self.env._("The pipeline already has a stage for each funnel step.")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _funnel_apply_standard_stages(self):
        """Give the team's pipeline a stage for each funnel step it lacks.

        Existing stages are neither renamed nor deleted. A missing step
        joins the stage named after it that other teams share, when that
        stage's place fits this pipeline (one column per step, whatever the
        team); else the team gets a stage of its own, named after the step
        in every installed language and placed between the stages of the
        neighbouring steps.
        """
        self.ensure_one()
        Stage = self.env["crm.stage"]
        created = Stage
        named_after_steps = Stage._funnel_named_after_steps()
        for step in self.env["sales.funnel.step"].search([]):
            pipeline = Stage._funnel_pipeline(self)
            if step in pipeline.funnel_step_id:
                continue
            low, high = Stage._funnel_bounds(pipeline, step)
            shared = (
                Stage.search(
                    [("funnel_step_id", "=", step.id), ("team_ids", "!=", False), ("sequence", ">", low)]
                    + ([("sequence", "<", high)] if high is not None else []),
                    order="sequence, id",
                )
                & named_after_steps
            )
            if shared:
                shared[0].team_ids = [fields.Command.link(self.id)]
                continue
            stage = Stage.create(
                {
                    "name": step.name,
                    "sequence": Stage._funnel_free_sequence(pipeline, step),
                    "team_ids": [fields.Command.set(self.ids)],
                    "funnel_step_id": step.id,
                    "is_won": step.code == WON_STEP,
                }
            )
            stage._funnel_name_after_step()
            stage._funnel_set_rotting_threshold()
            created |= stage
        return created

    # ------------------------------------------------------------ measured weights

    @api.readonly
    def action_funnel_measured_weights(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_stages.sales_funnel_weight_action"
        )
        action["domain"] = [("team_id", "=", self.id)]
        return action

    def action_funnel_adopt_measured_weights(self):
        """Give the team's own stages of each step the win rate measured on
        enough decided opportunities (won steps excluded), as custom weights.
        Stages the team shares with others, or with every team, keep theirs
        (they weigh for the others too). Logged on the team with the weights before: set them
        back to undo."""
        self.ensure_one()
        self.env["crm.stage"].check_access("write")
        company = self.company_id or self.env.company
        rows = (
            self.env["sales.funnel.weight"]
            .search([("team_id", "=", self.id), ("company_id", "=", company.id)])
            ._adoptable()
        )
        pipeline = self.env["crm.stage"]._funnel_pipeline(self)
        changes, shared = [], self.env["crm.stage"]
        for row in rows:
            stages = pipeline.filtered(lambda stage, step=row.step_id: stage.funnel_step_id == step)
            own = stages.filtered(lambda stage: stage.team_ids == self)
            shared |= stages - own
            weight = round(row.measured_weight, 2)
            changes += [
                (row, stage, stage.funnel_weight, weight) for stage in own if stage.funnel_weight != weight
            ]
        if not changes:
            return self._funnel_notify(
                self.env._("No weight to adopt: no step of %(team)s has a measured win rate that differs from "
                           "its own stages' weights on enough decided opportunities.", team=self.name)
            )  # fmt: skip

        # raised from the end of the pipeline back, then lowered from its
        # start on, so that the order of weights holds after every write when
        # it holds at the end; when it does not, the stage mapping's own rule
        # says which weights would cross
        def place(change):
            return change[0].step_sequence, change[1].sequence, change[1].id

        raised = sorted((c for c in changes if c[3] > c[2]), key=place, reverse=True)
        lowered = sorted((c for c in changes if c[3] < c[2]), key=place)
        try:
            with self.env.cr.savepoint():
                for _row, stage, _before, weight in raised + lowered:
                    stage.write({"funnel_weight_custom": True, "funnel_weight": weight})
        except ValidationError as error:
            raise UserError(
                self.env._(
                    "The measured weights of %(team)s cannot all be adopted: %(reason)s Adjust the weights by "
                    "hand under Stage Mapping.",
                    team=self.name,
                    reason=error.args[0],
                )
            ) from error
        self._funnel_log_adoption(changes, shared, company)
        return self._funnel_notify(
            self.env._("%(count)s stage weights of %(team)s adopted from the measured win rates.",
                       count=len(changes), team=self.name),
            kind="success",
        )  # fmt: skip

    def _funnel_log_adoption(self, changes, shared, company):
        lines = Markup().join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(stage)s (%(step)s): %(before)s%% → %(after)s%%, measured on %(decided)s decided opportunities",
                stage=stage.name,
                step=row.step_id.name,
                before=before,
                after=after,
                decided=row.decided_count,
            )
            for row, stage, before, after in changes
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "Stage weights adopted from the win rates measured over the last %(months)s months (to undo, "
                "set the weights before back under Stage Mapping):",
                months=company.funnel_weight_months,
            ),
            lines,
        )
        if shared:
            body += Markup("<p>%s</p>") % self.env._(
                "Shared with other teams, kept: %(stages)s.", stages=", ".join(shared.mapped("name"))
            )
        self.message_post(body=body)

    def _funnel_notify(self, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

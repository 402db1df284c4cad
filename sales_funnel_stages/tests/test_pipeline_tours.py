from odoo.tests import HttpCase, new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestPipelineTours(FunnelCase, HttpCase):
    """The salesperson's screens in a real browser: a team's pipeline after
    Apply Standard Stages, in English and Chinese, and a refused move."""

    def _standard_team(self, name, user):
        """A team of `user` with no stage of its own and no shared stage in
        its pipeline, given the standard stages; one opportunity of the
        user in each."""
        self.env["crm.stage"].search([("team_ids", "=", False)]).write({"team_ids": [(6, 0, self.team.ids)]})
        team = self.env["crm.team"].create({"name": name, "member_ids": [(4, user.id)]})
        self.env["sales.funnel.apply.stages"].create({"team_id": team.id}).action_apply()
        self.env["crm.lead"].create(
            [
                {"name": f"In {stage.name}", "type": "opportunity", "team_id": team.id, "user_id": user.id,
                 "stage_id": stage.id, "man_need": "yes", "man_authority": "yes"}
                for stage in self.env["crm.stage"]._funnel_pipeline(team)
            ]
        )  # fmt: skip
        return team

    def test_six_columns_after_applying_the_standard_stages(self):
        """Two teams given the standard stages share them: the pipeline of
        a salesperson of both shows one column per step, not one per team."""
        user = new_test_user(self.env, "pipeline_en", groups="sales_team.group_sale_salesman")
        first = self._standard_team("First team", user)
        second = self._standard_team("Second team", user)
        Stage = self.env["crm.stage"]
        self.assertEqual(Stage._funnel_pipeline(first), Stage._funnel_pipeline(second))
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline", "sales_funnel_pipeline_en_tour", login=user.login
        )

    def test_pipeline_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search([("name", "=", "sales_funnel_stages")])._update_translations(
            ["zh_CN"]
        )
        user = new_test_user(self.env, "pipeline_zh", groups="sales_team.group_sale_salesman", lang="zh_CN")
        self._standard_team("华东区", user)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline", "sales_funnel_pipeline_zh_tour", login=user.login
        )

    def test_refused_move_puts_the_form_back(self):
        lead = self._lead("needs", man_need="unknown", man_authority="unknown")
        self.start_tour(f"/odoo/crm/{lead.id}", "sales_funnel_gate_refusal_tour", login=self.salesman.login)
        self.assertEqual((lead.stage_id, lead.probability), (self.stage["needs"], 25.0))

    def test_team_health_tab(self):
        """The manager reads the team's health: one line per row, the
        warnings counted and named."""
        seller = new_test_user(
            self.env, "health_seller", name="Health Seller", groups="sales_team.group_sale_salesman"
        )
        self.team.member_ids = [(4, seller.id)]
        self.stage["needs"].rotting_threshold_days = 5
        lead = self._lead("needs", user_id=seller.id)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_last_stage_update = now() at time zone 'UTC' - interval '9 days' WHERE id = %s",
            [lead.id],
        )
        self.start_tour(
            f"/odoo/action-sales_team.crm_team_action_config/{self.team.id}",
            "sales_funnel_team_health_tour",
            login=self.manager.login,
        )

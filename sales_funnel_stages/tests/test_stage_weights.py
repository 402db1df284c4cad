from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestStageWeights(FunnelCase):
    def test_defaults_and_custom_weight(self):
        proposal = self.stage["proposal"]
        self.assertEqual(proposal.funnel_weight, 75.0)
        proposal.write({"funnel_weight_custom": True, "funnel_weight": 80.0})
        self.step["proposal"].weight = 70.0
        self.assertEqual(proposal.funnel_weight, 80.0, "a custom weight does not follow the step")
        proposal.funnel_weight_custom = False
        self.assertEqual(proposal.funnel_weight, 70.0)
        self.assertEqual(self.stage["after_sales"].funnel_weight, 100.0)

    def test_bad_weights_refused(self):
        proposal = self.stage["proposal"]
        for bad in (120.0, -5.0):
            with self.assertRaisesRegex(ValidationError, "between 0 and 100"), self.cr.savepoint():
                proposal.write({"funnel_weight_custom": True, "funnel_weight": bad})
        with (
            self.assertRaisesRegex(ValidationError, "may not decrease along the funnel"),
            self.cr.savepoint(),
        ):
            proposal.write({"funnel_weight_custom": True, "funnel_weight": 20.0})  # after needs (25)
        with (
            self.assertRaisesRegex(ValidationError, "won stage: its weight must be 100"),
            self.cr.savepoint(),
        ):
            self.stage["after_sales"].write({"funnel_weight_custom": True, "funnel_weight": 80.0})
        with self.assertRaisesRegex(ValidationError, "may not decrease"), self.cr.savepoint():
            self.stage["identify"].sequence = 50  # the 10 % stage moved after the 90 % one
        with self.assertRaisesRegex(ValidationError, "may not decrease"), self.cr.savepoint():
            self.step["solution"].weight = 95.0  # heavier than negotiation (90)
        self.assertEqual(proposal.funnel_weight, 75.0)

    def test_won_stage_created_after_sales(self):
        won = self.env["crm.stage"].create(
            {"name": "Signed", "is_won": True, "team_ids": [(6, 0, self.team.ids)]}
        )
        self.assertEqual((won.funnel_step_id, won.funnel_weight), (self.step["after_sales"], 100.0))

    def test_apply_standard_stages_to_team(self):
        team = self.env["crm.team"].create({"name": "Fresh team"})
        # the team's pipeline: two stages of its own, and no shared stage
        shared = self.env["crm.stage"].search([("team_ids", "=", False)])
        shared.write({"team_ids": [(6, 0, self.team.ids)]})
        own = self.env["crm.stage"].create(
            [
                {"name": "Qualify", "sequence": 1, "team_ids": [(6, 0, team.ids)],
                 "funnel_step_id": self.step["identify"].id},
                {"name": "Quote", "sequence": 2, "team_ids": [(6, 0, team.ids)],
                 "funnel_step_id": self.step["proposal"].id},
            ]
        )  # fmt: skip
        wizard = self.env["sales.funnel.apply.stages"].create({"team_id": team.id})
        self.assertEqual(
            wizard.missing_step_ids.mapped("code"), ["needs", "solution", "negotiation", "after_sales"]
        )
        wizard.action_apply()
        pipeline = self.env["crm.stage"]._funnel_pipeline(team)
        self.assertEqual(
            [(stage.name, stage.funnel_step_id.code) for stage in pipeline],
            [
                ("Qualify", "identify"),
                ("Needs analysis", "needs"),
                ("Solution design", "solution"),
                ("Quote", "proposal"),
                ("Negotiation & signing", "negotiation"),
                ("After-sales service", "after_sales"),
            ],
        )
        self.assertTrue(pipeline[-1].is_won)
        self.assertTrue(own.exists())
        self.assertEqual(pipeline.mapped("funnel_weight"), [10.0, 25.0, 50.0, 75.0, 90.0, 100.0])
        # the stages it created rot after their step's default days (nothing measured yet); its own keep theirs
        self.assertEqual(pipeline.mapped("rotting_threshold_days"), [0, 21, 30, 0, 30, 0])
        self.assertFalse(self.env["sales.funnel.apply.stages"].create({"team_id": team.id}).missing_step_ids)

        # a second team shares the stages named after the steps where their
        # place fits its pipeline: one column per step in the kanban
        second = self.env["crm.team"].create({"name": "Second team"})
        self.env["sales.funnel.apply.stages"].create({"team_id": second.id}).action_apply()
        second_pipeline = self.env["crm.stage"]._funnel_pipeline(second)
        self.assertEqual(
            [(stage.name, stage.funnel_step_id.code) for stage in second_pipeline],
            [
                ("Lead identification", "identify"),
                ("Needs analysis", "needs"),
                ("Solution design", "solution"),
                ("Proposal & quotation", "proposal"),
                ("Negotiation & signing", "negotiation"),
                ("After-sales service", "after_sales"),
            ],
        )
        self.assertEqual(second_pipeline[1:3] | second_pipeline[4:], pipeline[1:3] | pipeline[4:])
        self.assertEqual((pipeline | second_pipeline).mapped("team_ids"), team | second)
        # applied again: nothing to add
        self.assertFalse(
            self.env["sales.funnel.apply.stages"].create({"team_id": second.id}).missing_step_ids
        )

    def test_stages_named_in_a_language_installed_later(self):
        self.env["crm.stage"].search([("team_ids", "=", False)]).write({"team_ids": [(6, 0, self.team.ids)]})
        team = self.env["crm.team"].create({"name": "Fresh team"})
        team._funnel_apply_standard_stages()
        pipeline = self.env["crm.stage"]._funnel_pipeline(team)
        self.assertEqual(len(pipeline), 6)
        self.env["res.lang"]._activate_lang("zh_TW")
        pipeline[0].update_field_translations("name", {"zh_TW": "新線索"})  # a name of its own: kept
        self.env["ir.module.module"].search([("name", "=", "sales_funnel_stages")])._update_translations(
            ["zh_TW"]
        )
        self.assertEqual(
            pipeline.with_context(lang="zh_TW").mapped("name"),
            ["新線索", "需求分析", "解決方案制定", "提案與報價", "談判與簽約", "售後服務"],
        )

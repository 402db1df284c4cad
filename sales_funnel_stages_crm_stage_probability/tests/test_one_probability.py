from odoo.tests import TransactionCase, tagged

from ..hooks import post_init_hook, probabilities_came_first, take_over_stage_probabilities


@tagged("post_install", "-at_install")
class TestOneProbability(TransactionCase):
    """Figures from crm_stage_probability's data (New 10, Qualified 30,
    Proposition 70, Won 100, all "Change Probability Automatically") and the
    funnel steps' default weights (needs analysis 25, proposal 75)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new = cls.env.ref("crm.stage_lead1")
        cls.qualified = cls.env.ref("crm.stage_lead2")
        cls.proposition = cls.env.ref("crm.stage_lead3")
        cls.won = cls.env.ref("crm.stage_lead4")
        cls.team = cls.env["crm.team"].create({"name": "Weights", "funnel_probability_mode": "stage_weight"})
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Bridge",
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": cls.new.id,
                "expected_revenue": 20000,
            }
        )

    def test_install_took_the_stage_probabilities_over(self):
        self.assertEqual(self.new.funnel_step_id.weight, 10, "New keeps its step's weight, the same")
        self.assertFalse(self.new.funnel_weight_custom)
        self.assertEqual((self.qualified.funnel_weight, self.qualified.funnel_weight_custom), (30, True))
        self.assertEqual(self.qualified.funnel_step_id.weight, 25)
        self.assertEqual((self.proposition.funnel_weight, self.proposition.funnel_weight_custom), (70, True))
        stages = self.env["crm.stage"].with_context(active_test=False).search([])
        self.assertGreater(len(stages), 4)
        self.assertEqual(stages.mapped("probability"), stages.mapped("funnel_weight"))

    def test_a_stage_move_gives_one_probability(self):
        for stage, weight in [(self.proposition, 70), (self.qualified, 30)]:
            self.lead.stage_id = stage
            self.assertEqual(self.lead.probability, weight)
            self.assertEqual(self.lead.stage_probability, weight)
            self.assertAlmostEqual(self.lead.prorated_revenue, 20000 * weight / 100)
            self.assertAlmostEqual(self.lead.weighted_revenue, self.lead.prorated_revenue)
        # a stage whose probability crm_stage_probability does not apply
        self.proposition.on_change = False
        self.lead.stage_id = self.proposition
        self.assertEqual(self.lead.probability, 70)

    def test_created_in_a_won_stage(self):
        # crm_stage_probability alone gives it the first stage's 10: refused
        won = self.env["crm.lead"].create(
            {"name": "Born won", "type": "opportunity", "stage_id": self.won.id}
        )
        self.assertEqual((won.won_status, won.probability), ("won", 100))

    def test_automatic_team_follows_each_stage_rule(self):
        team = self.env["crm.team"].create({"name": "Automatic", "funnel_probability_mode": "automatic"})
        plain = self.env["crm.stage"].create(
            {
                "name": "Plain proposal",
                "sequence": self.proposition.sequence,
                "team_ids": [(6, 0, team.ids)],
                "funnel_step_id": self.proposition.funnel_step_id.id,
            }
        )
        self.assertEqual((plain.funnel_weight, plain.probability, plain.on_change), (75, 75, False))
        values = {"name": "Automatic", "type": "opportunity", "team_id": team.id, "expected_revenue": 500}
        applied = self.env["crm.lead"].create(dict(values, stage_id=self.proposition.id))
        self.assertEqual(applied.probability, 70, "the stage applies its probability, its weight")
        scored = self.env["crm.lead"].create(dict(values, stage_id=plain.id))
        self.assertNotEqual(scored.automated_probability, 75)
        self.assertEqual(scored.probability, scored.automated_probability, "crm's scoring")
        self.assertTrue(scored.is_automated_probability)
        scored.stage_id = self.proposition
        self.assertEqual(scored.probability, 70)
        self.assertFalse(scored.is_automated_probability, "crm_stage_probability's rule on its stage")

    def test_probability_and_weight_are_one_field(self):
        self.proposition.probability = 60
        self.assertEqual((self.proposition.funnel_weight, self.proposition.funnel_weight_custom), (60, True))
        self.proposition.funnel_weight = 65
        self.assertEqual(self.proposition.probability, 65)
        self.proposition.funnel_weight_custom = False
        self.assertEqual(self.proposition.probability, 75, "back to the step's weight")

    def test_a_decreasing_probability_is_left_out(self):
        # Qualified would weigh 80 before Proposition's 70: refused, logged
        self.qualified.write({"funnel_weight_custom": False})
        self.assertEqual(self.qualified.funnel_weight, 25)
        self._probability(self.qualified, 80)
        self.assertTrue(probabilities_came_first(self.env), "installed here with crm_stage_probability")
        with self.assertLogs(
            "odoo.addons.sales_funnel_stages_crm_stage_probability.hooks", "WARNING"
        ) as logs:
            post_init_hook(self.env)
        self.assertIn("80", logs.output[0])
        self.assertEqual((self.qualified.funnel_weight, self.qualified.funnel_weight_custom), (25, False))
        self.assertEqual(self.qualified.probability, 25)

    def test_take_over_in_any_order(self):
        """Qualified at 55 comes before Solution design's 50 until Solution
        design takes its 65: both are taken over."""
        solution = self.env.ref("sales_funnel_stages.crm_stage_solution")
        self.qualified.write({"funnel_weight_custom": False})
        self._probability(self.qualified, 55)
        self._probability(solution, 65, on_change=True)
        self.assertFalse(take_over_stage_probabilities(self.env))
        self.assertEqual((self.qualified.funnel_weight, solution.funnel_weight), (55, 65))

    def test_a_weight_set_by_a_manager_stays(self):
        self.proposition.write({"funnel_weight": 72})
        self._probability(self.proposition, 60)
        take_over_stage_probabilities(self.env)
        self.assertEqual(self.proposition.funnel_weight, 72)

    def test_several_stages_edited_at_once(self):
        solution = self.env.ref("sales_funnel_stages.crm_stage_solution")
        # one after the other, Qualified at 60 would come before Solution design's 50
        (self.qualified | solution).write({"probability": 60})
        self.assertEqual((self.qualified.funnel_weight, solution.funnel_weight), (60, 60))
        self.assertTrue(solution.funnel_weight_custom)

    def _probability(self, stage, probability, on_change=None):
        """crm_stage_probability's own column, as its users left it."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_stage SET probability = %s, on_change = COALESCE(%s, on_change) WHERE id = %s",
            [probability, on_change, stage.id],
        )
        self.env["crm.stage"].invalidate_model(["probability", "on_change"])

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestWeightedRevenue(FunnelCase):
    def test_weighted_revenue_follows_stage_weight(self):
        # Funnel method, section 2: amount x stage weight.
        lead = self._qualify(self._lead("proposal", expected_revenue=200000))
        self.assertEqual(lead.funnel_step_id, self.step["proposal"])
        self.assertEqual(lead.weighted_revenue, 150000.0)  # 75 % of 200,000
        lead.stage_id = self.stage["needs"]
        self.assertEqual(lead.weighted_revenue, 50000.0)  # 25 %
        lead.expected_revenue = 1000000
        self.assertEqual(lead.weighted_revenue, 250000.0)  # the seed's own example

    def test_won_and_lost(self):
        won = self._qualify(self._lead("negotiation", expected_revenue=80000))
        self.assertEqual(won.weighted_revenue, 72000.0)
        won.action_set_won()
        self.assertEqual((won.won_status, won.weighted_revenue), ("won", 80000.0))
        lost = self._lead("needs", expected_revenue=80000)
        lost.action_set_lost()
        self.assertEqual((lost.won_status, lost.weighted_revenue), ("lost", 0.0))

    def test_summable_in_reports(self):
        leads = self._lead("identify", expected_revenue=1000) | self._lead("solution", expected_revenue=3000)
        [group] = self.env["crm.lead"]._read_group(
            [("id", "in", leads.ids)], aggregates=["weighted_revenue:sum"]
        )
        self.assertEqual(group[0], 100.0 + 1500.0)
        by_step = dict(
            self.env["crm.lead"]._read_group(
                [("id", "in", leads.ids)], ["funnel_step_id"], ["weighted_revenue:sum"]
            )
        )
        self.assertEqual(by_step, {self.step["identify"]: 100.0, self.step["solution"]: 1500.0})


@tagged("post_install", "-at_install")
class TestProbabilityModes(FunnelCase):
    def test_stage_weight_mode(self):
        lead = self._lead("identify", expected_revenue=1000)
        self.assertEqual(lead.probability, 10.0)
        lead.stage_id = self.stage["needs"]
        self.assertEqual(lead.probability, 25.0)
        # a manual probability is kept until the next stage change
        lead.probability = 33.0
        lead.write({"expected_revenue": 2000, "tag_ids": [(0, 0, {"name": "funnel tag"})]})
        self.assertEqual(lead.probability, 33.0)
        self._qualify(lead).stage_id = self.stage["solution"]
        self.assertEqual(lead.probability, 50.0)
        lead.action_set_won()
        self.assertEqual(lead.probability, 100.0)
        other = self._lead("solution")
        other.action_set_lost()
        self.assertEqual(other.probability, 0.0)

    def test_automatic_mode_is_odoo_stock(self):
        self.team.funnel_probability_mode = "automatic"
        lead = self._qualify(self._lead("identify"))
        stock = lead.automated_probability
        self.assertEqual(lead.probability, stock)
        lead.stage_id = self.stage["negotiation"]
        self.assertEqual(lead.probability, lead.automated_probability)
        self.assertNotEqual(lead.probability, 90.0, "stock scoring, not the stage weight")

    def test_switching_mode_applies_to_open_opportunities(self):
        self.team.funnel_probability_mode = "automatic"
        open_lead = self._qualify(self._lead("proposal"))
        lost = self._lead("proposal")
        lost.action_set_lost()
        self.team.funnel_probability_mode = "stage_weight"
        self.assertEqual(open_lead.probability, 75.0)
        self.assertEqual(lost.probability, 0.0)
        self.team.funnel_probability_mode = "automatic"
        # back to crm's scoring: crm's own scheduled action keeps it so
        self.env["crm.lead"]._cron_update_automated_probabilities()
        self.assertEqual(open_lead.probability, open_lead.automated_probability)
        self.assertNotEqual(open_lead.probability, 75.0)
        self.team.funnel_probability_mode = "stage_weight"
        self.env["crm.lead"]._cron_update_automated_probabilities()
        self.assertEqual(open_lead.probability, 75.0, "crm's action leaves stage weights alone")

    def test_weight_change_moves_following_probabilities(self):
        following = self._lead("needs")
        manual = self._lead("needs")
        manual.probability = 40.0
        self.step["needs"].weight = 30.0
        self.assertEqual(self.stage["needs"].funnel_weight, 30.0)
        self.assertEqual(following.probability, 30.0)
        self.assertEqual(manual.probability, 40.0)
        self.assertEqual(manual.automated_probability, 30.0)

    def test_predictive_scoring_cron_keeps_stage_weights(self):
        lead = self._lead("solution")
        other_team = self.env["crm.team"].create({"name": "Automatic team"})
        automatic = self.env["crm.lead"].create(
            {"name": "Auto", "type": "opportunity", "team_id": other_team.id}
        )
        probabilities, _tooltip = (lead | automatic)._pls_get_naive_bayes_probabilities(batch_mode=True)
        self.assertEqual(probabilities[lead.id], 50.0)
        self.assertEqual(probabilities.get(automatic.id), automatic.automated_probability or None)


@tagged("post_install", "-at_install")
class TestStageGates(FunnelCase):
    def test_forward_refused_backward_allowed(self):
        lead = self._lead("needs")
        with self.assertRaisesRegex(UserError, "Need is not confirmed"):
            lead.stage_id = self.stage["solution"]
        with self.assertRaisesRegex(UserError, "Need is not confirmed, Authority is not identified"):
            lead.stage_id = self.stage["negotiation"]  # skipping steps checks the target's gates
        lead.man_need = "yes"
        lead.stage_id = self.stage["solution"]
        self.assertEqual(
            lead.funnel_gate_status, "To enter “Proposal & quotation”: Authority is not identified."
        )
        with self.assertRaisesRegex(UserError, "Authority is not identified"):
            lead.stage_id = self.stage["proposal"]
        lead.man_authority = "yes"
        lead.stage_id = self.stage["proposal"]
        self.assertFalse(lead.funnel_gate_status)
        # backward is always allowed, even with the answers taken back
        lead.write({"man_need": "no", "man_authority": "unknown"})
        lead.stage_id = self.stage["identify"]
        self.assertEqual(lead.stage_id, self.stage["identify"])

    def test_won_is_never_refused(self):
        lead = self._lead("negotiation")
        lead.write({"man_need": "no", "man_authority": "unknown"})
        lead.action_set_won()
        self.assertEqual(lead.won_status, "won")
        other = self._lead("identify")
        other.stage_id = self.stage["after_sales"]  # dragged straight to the won column
        self.assertEqual(other.stage_id, self.stage["after_sales"])

    def test_created_past_a_gate_refused(self):
        with self.assertRaises(UserError) as refusal:  # refused where it is written, at the latest
            self._lead("solution", man_need="unknown")
        self.assertIn("Need is not confirmed", str(refusal.exception))
        lead = self._lead("solution", man_need="yes")
        self.assertEqual(lead.stage_id, self.stage["solution"])

    def test_stage_and_answers_in_one_write(self):
        lead = self._lead("needs")
        lead.write({"stage_id": self.stage["proposal"].id, "man_need": "yes", "man_authority": "yes"})
        self.assertEqual(lead.stage_id, self.stage["proposal"])

    def test_team_change_into_a_gated_stage_refused(self):
        """crm recomputes the stage when the team changes: the gate sees it too."""
        other_team = self.env["crm.team"].create({"name": "Gated elsewhere", "use_funnel_gates": True})
        self.env["crm.stage"].create(
            {"name": "Elsewhere solution", "sequence": 0, "team_ids": [(6, 0, other_team.ids)],
             "funnel_step_id": self.step["solution"].id, "funnel_weight_custom": True, "funnel_weight": 5}
        )  # fmt: skip
        lead = self._lead("identify")
        with self.assertRaises(UserError) as refusal:  # in a savepoint, rolled back as a request would be
            lead.team_id = other_team
        self.assertIn("Need is not confirmed", str(refusal.exception))
        lead.invalidate_recordset()
        self.assertEqual((lead.team_id, lead.stage_id), (self.team, self.stage["identify"]))

    def test_form_warns_before_saving(self):
        lead = self._lead("needs")
        with Form(lead) as form:
            form.stage_id = self.stage["proposal"]
            self.assertEqual(form.stage_id, self.stage["needs"], "the refused stage is put back")
            form.man_need = "yes"
            form.stage_id = self.stage["solution"]
        self.assertEqual(lead.stage_id, self.stage["solution"])

    def test_gates_switched_off(self):
        lead = self._lead("identify")
        self.step["solution"].requires_need = False
        lead.stage_id = self.stage["solution"]
        self.team.use_funnel_gates = False
        lead.stage_id = self.stage["negotiation"]
        self.assertEqual(lead.stage_id, self.stage["negotiation"])

    def test_kanban_move_by_salesman_refused(self):
        lead = self._lead("needs").with_user(self.salesman)
        with self.assertRaisesRegex(UserError, "Need is not confirmed"):
            lead.write({"stage_id": self.stage["proposal"].id})


@tagged("post_install", "-at_install")
class TestDisqualify(FunnelCase):
    def test_disqualify_mann(self):
        lead = self._qualify(self._lead("needs"), money="no", authority="no", need="no")
        self.assertEqual(lead.man_class, "nnn")
        lead.action_funnel_disqualify()
        self.assertEqual(lead.won_status, "lost")
        self.assertEqual(
            lead.lost_reason_id, self.env.ref("sales_funnel_stages.crm_lost_reason_man_disqualified")
        )

    def test_only_mann_can_be_disqualified(self):
        lead = self._qualify(self._lead("needs"), money="yes", authority="no", need="no")
        with self.assertRaisesRegex(UserError, "is M\\+a\\+n"):
            lead.action_funnel_disqualify()
        self.assertEqual(lead.won_status, "pending")

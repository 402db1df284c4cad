from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestMeasuredWeights(FunnelCase):
    """A known history: 10 opportunities entered the proposal step, 6 are
    won, 2 lost and 2 open: 6 of 8 decided, 75 %."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {"funnel_weight_months": 12, "funnel_weight_drift_points": 15.0, "funnel_weight_min_decided": 8}
        )
        # the database's shared stages belong elsewhere: the team's pipeline is its own stages
        cls.env["crm.stage"].search([("team_ids", "=", False)]).team_ids = cls.env["crm.team"].create(
            {"name": "Elsewhere"}
        )
        cls.lost_reason = cls.env["crm.lost.reason"].create({"name": "Too expensive"})
        leads = [
            cls._lead("proposal", name=f"Proposal {index}", expected_revenue=1000.0) for index in range(10)
        ]
        for lead in leads[:6]:
            lead.action_set_won()
        for lead in leads[6:8]:
            lead.action_set_lost(lost_reason_id=cls.lost_reason.id)

    def _row(self, step="proposal", team=None):
        # rows keep their ids from one query to the next: read afresh, as a new request does
        self.env.invalidate_all()
        return self.env["sales.funnel.weight"].search(
            [("team_id", "=", (team or self.team).id), ("step_id", "=", self.step[step].id)]
        )

    def _declare(self, weight):
        self.stage["proposal"].write({"funnel_weight_custom": True, "funnel_weight": weight})

    def test_win_rate_of_those_decided(self):
        row = self._row()
        self.assertEqual(
            (row.reached_count, row.won_count, row.lost_count, row.open_count, row.decided_count),
            (10, 6, 2, 2, 8),
        )
        self.assertAlmostEqual(row.measured_weight, 75.0)
        self.assertAlmostEqual(
            row.declared_weight, 75.0, msg="the team's stage of the step, at the step's weight"
        )
        self.assertAlmostEqual(row.drift, 0.0)
        self.assertFalse(row.is_drifting)
        # the won ones reached after-sales too: all won, 100 % measured
        after_sales = self._row("after_sales")
        self.assertEqual((after_sales.reached_count, after_sales.measured_weight), (6, 100.0))

    def test_drift_at_below_and_above_the_threshold(self):
        self._declare(60.0)  # 75 measured: 15 points, at the threshold
        self.assertAlmostEqual(self._row().drift, 15.0)
        self.assertFalse(self._row().is_drifting)
        self._declare(59.9)  # 15.1 points
        self.assertTrue(self._row().is_drifting)
        self._declare(61.0)  # 14 points
        self.assertFalse(self._row().is_drifting)
        self._declare(59.9)
        self.company.funnel_weight_drift_points = 16.0
        self.assertFalse(self._row().is_drifting)

    def test_drift_needs_enough_decided_opportunities(self):
        self._declare(50.0)  # 25 points off
        self.assertTrue(self._row().is_drifting, "8 decided, the floor")
        self.company.funnel_weight_min_decided = 9
        row = self._row()
        self.assertFalse(row.is_drifting, "shown, not flagged, below the floor")
        self.assertAlmostEqual(row.measured_weight, 75.0)

    def test_window_of_months(self):
        # entered the proposal step 13 months ago, as an import of past moves dates it
        old = self._lead("identify", name="Old one")
        old.with_context(funnel_event_date=fields.Datetime.now() - timedelta(days=400)).write(
            {"stage_id": self.stage["proposal"].id, "man_need": "yes", "man_authority": "yes"}
        )
        self.assertEqual(self._row().reached_count, 10)
        self.company.funnel_weight_months = 14
        self.assertEqual(self._row().reached_count, 11)

    def test_company_rate_is_won_over_decided_of_all_its_teams(self):
        other = self.team.copy({"name": "Second Team"})
        (self.stage["proposal"] | self.stage["after_sales"]).team_ids = [(4, other.id)]
        leads = [
            self._lead("proposal", name=f"Second {index}", team_id=other.id, expected_revenue=1.0)
            for index in range(4)
        ]
        leads[0].action_set_won()
        leads[1].action_set_won()
        leads[2].action_set_lost()
        leads[3].action_set_lost()
        self.assertAlmostEqual(self._row(team=other).measured_weight, 50.0)
        [group] = self.env["sales.funnel.weight"]._read_group(
            [("team_id", "in", (self.team | other).ids), ("step_id", "=", self.step["proposal"].id)],
            ["company_id"],
            ["measured_weight:avg", "decided_count:sum"],
        )
        # 8 won of 12 decided, not the mean of 75 and 50
        self.assertEqual(group[2], 12)
        self.assertAlmostEqual(group[1], 100.0 * 8 / 12)

    def test_adopt_for_a_team_logged_with_the_weights_before(self):
        self._declare(60.0)
        shared = self.env["crm.stage"].create(
            {
                "name": "Shared proposal",
                "sequence": self.stage["proposal"].sequence,
                "funnel_step_id": self.step["proposal"].id,
                "team_ids": [(6, 0, (self.team | self.team.copy({"name": "Other"})).ids)],
                "funnel_weight_custom": True,
                "funnel_weight": 60.0,
            }
        )
        self.env.invalidate_all()
        row = self._row()
        self.assertAlmostEqual(row.declared_weight, 60.0, msg="the mean of its stages of the step")
        self.team.with_user(self.manager).action_funnel_adopt_measured_weights()
        self.assertEqual(self.stage["proposal"].funnel_weight, 75.0)
        self.assertTrue(self.stage["proposal"].funnel_weight_custom)
        self.assertEqual(shared.funnel_weight, 60.0, "shared with another team: kept")
        log = self.team.message_ids[0].body
        self.assertIn("Team proposal", log)
        self.assertIn("60.0% → 75.0%", log)
        self.assertIn("8 decided", log)
        self.assertIn("Shared proposal", log)

    def test_nothing_to_adopt_below_the_floor(self):
        self._declare(60.0)
        self.company.funnel_weight_min_decided = 9
        messages = len(self.team.message_ids)
        action = self.team.with_user(self.manager).action_funnel_adopt_measured_weights()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(self.stage["proposal"].funnel_weight, 60.0)
        self.assertEqual(len(self.team.message_ids), messages, "nothing logged")

    def test_adoption_that_would_break_the_order_of_weights_is_refused_whole(self):
        self._declare(60.0)
        # the next step, not measured here, weighs less than the 75 % measured
        self.stage["negotiation"].write({"funnel_weight_custom": True, "funnel_weight": 70.0})
        with self.assertRaises(UserError) as refused:
            self.team.with_user(self.manager).action_funnel_adopt_measured_weights()
        self.assertIn("cannot all be adopted", str(refused.exception))
        self.assertIn("Team negotiation", str(refused.exception))
        self.assertEqual(self.stage["proposal"].funnel_weight, 60.0, "nothing adopted")

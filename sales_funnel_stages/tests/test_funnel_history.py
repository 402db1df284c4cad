from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestStageHistory(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False

    def _moves(self, lead):
        return [
            (row.kind, row.from_stage_id.name or False, row.to_stage_id.name, row.to_step_id.code)
            for row in lead.funnel_history_ids.sorted("id")
        ]

    def test_every_kind_of_move(self):
        lead = self._lead("identify", expected_revenue=1000)
        lead.stage_id = self.stage["needs"]
        lead.stage_id = self.stage["proposal"]  # skips solution design
        lead.stage_id = self.stage["solution"]
        lateral = self.env["crm.stage"].create(
            {"name": "Team demo", "sequence": 3, "team_ids": [(6, 0, self.team.ids)],
             "funnel_step_id": self.step["solution"].id}
        )  # fmt: skip
        lead.stage_id = lateral
        lead.action_set_lost()
        lead.action_restore()
        lead.action_set_won()
        won_stage = lead.stage_id  # crm picks the first won stage of the pipeline
        lead.stage_id = self.stage["negotiation"]  # back out of won
        self.assertEqual(
            self._moves(lead),
            [
                ("enter", False, "Team identify", "identify"),
                ("advance", "Team identify", "Team needs", "needs"),
                ("skip", "Team needs", "Team proposal", "proposal"),
                ("regress", "Team proposal", "Team solution", "solution"),
                ("lateral", "Team solution", "Team demo", "solution"),
                ("lost", "Team demo", "Team demo", "solution"),
                ("restored", "Team demo", "Team demo", "solution"),
                ("won", "Team demo", won_stage.name, "after_sales"),
                ("regress", won_stage.name, "Team negotiation", "negotiation"),
            ],
        )

    def test_values_at_that_moment(self):
        lead = self._lead("identify", expected_revenue=1000)
        lead.write({"expected_revenue": 4000, "stage_id": self.stage["proposal"].id})
        lead.expected_revenue = 9000
        enter, move = lead.funnel_history_ids.sorted("id")
        self.assertEqual((enter.expected_revenue, enter.weighted_revenue), (1000.0, 100.0))
        self.assertEqual((move.expected_revenue, move.weighted_revenue), (4000.0, 3000.0))
        self.assertEqual(
            (move.user_id, move.team_id, move.company_id, move.currency_id),
            (self.salesman, self.team, self.company, self.company.currency_id),
        )

    def test_event_date_for_imports(self):
        lead = self._lead("identify")
        past = datetime(2025, 3, 14, 9, 30)
        lead.with_context(funnel_event_date=past).stage_id = self.stage["needs"]
        self.assertEqual(lead.funnel_history_ids.sorted("id")[-1].date, past)

    def test_only_the_system_writes_it(self):
        lead = self._lead("identify")
        row = lead.funnel_history_ids
        for user in (self.salesman, self.manager):
            history = self.env["sales.funnel.history"].with_user(user)
            with self.assertRaises(AccessError):
                history.create({"lead_id": lead.id, "date": datetime.now(), "kind": "enter"})
            with self.assertRaises(AccessError):
                row.with_user(user).write({"kind": "won"})
            with self.assertRaises(AccessError):
                row.with_user(user).unlink()
        self.assertEqual(row.kind, "enter")

    def test_salesperson_sees_what_crm_lets_them_see(self):
        other = new_test_user(self.env, "funnel_other_salesman", groups="sales_team.group_sale_salesman")
        mine = self._lead("identify", name="Mine")
        theirs = self._lead("identify", name="Theirs", user_id=other.id)
        unassigned = self._lead("identify", name="Nobody's", user_id=False)
        visible = (
            self.env["sales.funnel.history"]
            .with_user(self.salesman)
            .search([("lead_id", "in", (mine | theirs | unassigned).ids)])
        )
        self.assertEqual(visible.lead_id, mine | unassigned)
        everything = (
            self.env["sales.funnel.history"]
            .with_user(self.manager)
            .search([("lead_id", "in", (mine | theirs | unassigned).ids)])
        )
        self.assertEqual(everything.lead_id, mine | theirs | unassigned)

    def test_archiving_keeps_history(self):
        lead = self._lead("identify")
        lead.stage_id = self.stage["needs"]
        lead.action_archive()
        self.assertEqual(len(lead.with_context(active_test=False).funnel_history_ids), 2)
        lead.action_set_lost()  # a lost lead is archived too
        self.assertEqual(
            self.env["sales.funnel.history"].search_count([("lead_id", "=", lead.id)]),
            3,
            "enter, advance, lost",
        )

    def test_merge_keeps_the_survivors_history(self):
        """The survivor keeps its own moves (a merge that changes its stage
        is one more move); the duplicates' moves go with them."""
        first = self._lead("identify", name="First")
        first.stage_id = self.stage["needs"]
        second = self._lead("solution", name="Second")
        second.stage_id = self.stage["proposal"]
        own = {lead: self._moves(lead) for lead in first | second}
        merged = (first | second).merge_opportunity(auto_unlink=True)
        self.assertEqual(self._moves(merged)[: len(own[merged])], own[merged])
        self.assertFalse(((first | second) - merged).exists())
        duplicate = (first | second) - merged
        self.assertFalse(self.env["sales.funnel.history"].search([("lead_id", "in", duplicate.ids)]))
        summary = self.env["sales.funnel.lead.step"].search([("lead_id", "=", merged.id)])
        self.assertTrue(summary)
        self.assertTrue(all(row.days_closed >= 0 for row in summary))


@tagged("post_install", "-at_install")
class TestEveryPathIsRecorded(FunnelCase):
    """Each way a stage changed without being recorded, or was summarised
    wrongly, before the history observed crm_lead's writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False

    def _summary(self, lead):
        rows = self.env["sales.funnel.lead.step"].search([("lead_id", "=", lead.id)])
        return {row.step_id.code: row for row in rows}

    def test_team_change(self):
        other = self.env["crm.team"].create({"name": "Other team"})
        other_first = self.env["crm.stage"].create(
            {"name": "Other first", "sequence": 0, "team_ids": [(6, 0, other.ids)],
             "funnel_step_id": self.step["identify"].id}
        )  # fmt: skip
        lead = self._lead("solution")
        lead.team_id = other  # crm puts it in the new team's first stage
        self.assertEqual(lead.stage_id, other_first)
        last = lead.funnel_history_ids.sorted(lambda row: (row.date, row.id))[-1]
        self.assertEqual(
            (last.kind, last.from_stage_id, last.to_stage_id),
            ("regress", self.stage["solution"], other_first),
        )
        summary = self._summary(lead)
        self.assertTrue(summary["identify"].is_current)
        self.assertFalse(summary["solution"].is_current)
        self.assertTrue(summary["solution"].regressed)

    def test_remap_a_stage(self):
        lead = self._lead("needs")
        self.stage["needs"].funnel_step_id = self.step["solution"]
        summary = self._summary(lead)
        self.assertTrue(summary["solution"].is_current)
        self.assertNotIn("needs", summary)
        self.assertEqual(lead.funnel_history_ids.to_step_id, self.step["solution"])

    def test_reopen_a_won_lead(self):
        lead = self._lead("negotiation")
        lead.action_set_won()
        lead.stage_id = self.stage["negotiation"]
        summary = self._summary(lead)
        self.assertEqual(
            (summary["after_sales"].regressed, summary["after_sales"].is_current, summary["after_sales"].won),
            (True, False, False),
        )
        self.assertTrue(summary["negotiation"].is_current)
        self.assertTrue(summary["negotiation"].lead_open)

    def test_created_and_moved_in_one_transaction(self):
        leads = self.env["crm.lead"].create(
            [{"name": f"Quick {n}", "type": "opportunity", "team_id": self.team.id,
              "stage_id": self.stage["identify"].id} for n in range(50)]
        )  # fmt: skip
        leads.write({"stage_id": self.stage["needs"].id})
        advanced = self.env["sales.funnel.lead.step"].search(
            [
                ("lead_id", "in", leads.ids),
                ("step_id", "=", self.step["identify"].id),
                ("advanced", "=", True),
            ]
        )
        self.assertEqual(len(advanced), 50)

    def test_nobody_but_the_superuser_backdates(self):
        lead = self._lead("identify").with_user(self.salesman)
        lead.with_context(funnel_event_date="1999-01-01 00:00:00").stage_id = self.stage["needs"]
        last = lead.sudo().funnel_history_ids.sorted("id")[-1]
        self.assertEqual(last.date, self.env.cr.now())
        self.assertGreaterEqual(self._summary(lead)["identify"].days_closed, 0)

    def test_work_rolled_back_is_not_summarised(self):
        """A move undone by a savepoint that keeps the rest of the
        transaction: the summary follows the history as it is."""
        lead = self._lead("identify")
        with self.env.cr.savepoint(flush=False) as savepoint:
            lead.stage_id = self.stage["needs"]
            savepoint.rollback()
        self.env.invalidate_all()
        self.assertEqual(lead.stage_id, self.stage["identify"])
        self.assertEqual(lead.funnel_history_ids.mapped("kind"), ["enter"])
        summary = self._summary(lead)
        self.assertEqual(set(summary), {"identify"})
        self.assertTrue(summary["identify"].is_current)

    def test_reordered_steps(self):
        """Moves are named, and summaries built, by the steps' order as it is now."""
        self.step["solution"].weight = self.step["proposal"].weight  # so that the order may change
        lead = self._lead("needs")
        lead.stage_id = self.stage["solution"]
        self.assertEqual(lead.funnel_history_ids.sorted("id")[-1].kind, "advance")
        self.step["solution"].sequence, self.step["proposal"].sequence = 4, 3
        self.env.cr.flush()  # as the request's commit does: once for both writes
        self.env.invalidate_all()
        self.assertEqual(lead.funnel_history_ids.sorted("id")[-1].kind, "skip", "proposal now lies between")
        self.assertEqual(self._summary(lead)["solution"].step_sequence, 4)
        self.assertTrue(self._summary(lead)["needs"].advanced)

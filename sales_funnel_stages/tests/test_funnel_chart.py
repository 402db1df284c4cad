from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestFunnelChart(HttpCase):
    """The funnel chart of the funnel analysis, in the browser: a team of its
    own, 10 opportunities entering the first step, 4 of them advancing and
    one lost."""

    def setUp(self):
        super().setUp()
        env = self.env(context=dict(self.env.context, tracking_disable=True), su=True)
        self.team = env["crm.team"].create({"name": "Funnel Chart Team", "use_funnel_gates": False})
        stages = {
            step.code: env["crm.stage"].create(
                {
                    "name": f"Chart {step.code}",
                    "sequence": step.sequence,
                    "team_ids": [(6, 0, self.team.ids)],
                    "funnel_step_id": step.id,
                    "is_won": step.code == "after_sales",
                }
            )
            for step in env["sales.funnel.step"].search([])
        }
        # dated moves: a lead advances when it enters a later step later than
        # the step, and a test's moves would share the time of its transaction
        entered = fields.Datetime.now() - timedelta(minutes=2)
        moved = entered + timedelta(minutes=1)
        Lead = env["crm.lead"].with_context(funnel_event_date=entered)
        # two salespeople of 5 each: the first's 4 advance, none of the second's
        sellers = [
            new_test_user(
                env,
                f"chart_seller_{letter}",
                name=f"Chart Seller {letter}",
                groups="sales_team.group_sale_salesman",
            )
            for letter in "AB"
        ]
        self.leads = Lead.create(
            [
                {
                    "name": f"Chart opportunity {i}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "user_id": sellers[i // 5].id,
                    "stage_id": stages["identify"].id,
                    "expected_revenue": 1000.0 * (i + 1),
                }
                for i in range(10)
            ]
        )
        self.leads[:4].with_context(funnel_event_date=moved).write({"stage_id": stages["needs"].id})
        # lost, hence archived, yet still one of the 10 that entered
        self.leads[-1].with_context(funnel_event_date=moved).action_set_lost()

    def test_funnel_chart_tour(self):
        self.start_tour(
            "/odoo/action-sales_funnel_stages.sales_funnel_report_action",
            "sales_funnel_chart_tour",
            login="admin",
        )

    def test_funnels_compared_by_salesperson(self):
        """Grouped, the funnels of the group's values on the same steps."""
        Report = self.env["sales.funnel.report"]
        groups = Report.get_funnel_comparison([("team_id", "=", self.team.id)], "user_id")
        self.assertEqual([group["label"] for group in groups], ["Chart Seller A", "Chart Seller B"])
        self.assertEqual(
            [
                [(line["entered_count"], line["conversion_rate"]) for line in group["steps"][:2]]
                for group in groups
            ],
            [[(5, 80.0), (4, 0.0)], [(5, 0.0), (0, 0.0)]],
        )
        self.assertEqual(len(groups[0]["steps"]), len(self.env["sales.funnel.step"].search([])), "every step")
        [year] = Report.get_funnel_comparison([("team_id", "=", self.team.id)], "date:year")
        self.assertEqual(year["label"], str(fields.Date.today().year))
        self.assertEqual(year["steps"][0]["entered_count"], 10)

    def _step_rows(self, Report, domain, step):
        """The rows the action of a band lists: its domain and the step of its facet."""
        action = Report.action_open_step_leads(domain, step.id)
        self.assertEqual(action["context"]["search_default_step_id"], step.id)
        return Report.search(
            action["domain"] + [("step_id", "=", action["context"]["search_default_step_id"])]
        )

    def test_step_leads_action(self):
        """A band opens the leads of the search that entered its step, the
        lost ones included, the step as a facet, by what became of them;
        a row opens its lead."""
        Report = self.env["sales.funnel.report"]
        step = self.env.ref("sales_funnel_stages.sales_funnel_step_identify")
        team_domain = [("team_id", "=", self.team.id)]
        action = Report.action_open_step_leads(team_domain, step.id)
        self.assertEqual((action["res_model"], action["name"]), ("sales.funnel.report", step.name))
        self.assertEqual(action["context"]["search_default_groupby_outcome"], 1)
        rows = self._step_rows(Report, team_domain, step)
        self.assertEqual(rows.lead_id, self.leads)
        outcomes = {row.lead_id: row.outcome for row in rows}
        self.assertEqual(
            [outcomes[lead] for lead in self.leads], ["advanced"] * 4 + ["in_step"] * 5 + ["lost"]
        )
        needs = self.env.ref("sales_funnel_stages.sales_funnel_step_needs")
        self.assertEqual(self._step_rows(Report, team_domain, needs).lead_id, self.leads[:4])
        opened = rows.filtered(lambda row: row.lead_id == self.leads[0]).action_open_lead()
        self.assertEqual((opened["res_model"], opened["res_id"]), ("crm.lead", self.leads[0].id))

    def test_step_leads_action_for_every_role(self):
        """Every role that sees the chart drills down, into what it may see."""
        salesman = new_test_user(self.env, "chart_salesman", groups="sales_team.group_sale_salesman")
        all_leads = new_test_user(
            self.env, "chart_all_leads", groups="sales_team.group_sale_salesman_all_leads"
        )
        manager = new_test_user(self.env, "chart_manager", groups="sales_team.group_sale_manager")
        self.team.member_ids = salesman | manager  # the leads stay in the team
        self.leads[:2].user_id = salesman
        self.leads[2:].user_id = manager
        step = self.env.ref("sales_funnel_stages.sales_funnel_step_identify")
        for user, expected in ((salesman, self.leads[:2]), (all_leads, self.leads), (manager, self.leads)):
            with self.subTest(user=user.login):
                Report = self.env["sales.funnel.report"].with_user(user)
                self.assertEqual(
                    self._step_rows(Report, [("team_id", "=", self.team.id)], step).lead_id, expected
                )

    def test_funnel_view_validation(self):
        """A funnel view draws a model's funnel: none without one, no content."""
        View = self.env["ir.ui.view"]
        with self.assertRaises(ValidationError):
            View.create({"name": "lead funnel", "model": "crm.lead", "arch": "<funnel/>"})
        with self.assertRaises(ValidationError):
            View.create(
                {
                    "name": "funnel with a field",
                    "model": "sales.funnel.report",
                    "arch": '<funnel><field name="step_id"/></funnel>',
                }
            )

import io
import math
from datetime import timedelta

import openpyxl
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestForecast(FunnelCase):
    """Three open opportunities closing next month, worked out by hand:

    | amount  | stage weight p | weighted | amount² x p x (1 - p)  |
    | 100,000 | 25 %           | 25,000   | 1,875,000,000          |
    | 200,000 | 50 %           | 100,000  | 10,000,000,000         |
    |  40,000 | 75 %           | 30,000   | 300,000,000            |

    likely 155,000, spread sqrt(12,175,000,000) = 110,340.38; a deal won this
    month (50,000); one overdue and one undated, apart.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["crm.lead"])
        cls.this_month = cls.today.replace(day=1)
        cls.next_month = cls.this_month + relativedelta(months=1)
        closing = cls.next_month + timedelta(days=9)
        cls.open = [
            cls._lead("needs", name="Scanners", expected_revenue=100000.0, date_deadline=closing),
            cls._lead("solution", name="Fleet", expected_revenue=200000.0, date_deadline=closing),
            cls._lead("proposal", name="Training", expected_revenue=40000.0, date_deadline=closing),
        ]
        cls.won = cls._lead("proposal", name="Licences", expected_revenue=50000.0, date_deadline=closing)
        cls.won.action_set_won()
        cls.overdue = cls._lead(
            "solution", name="Late", expected_revenue=10000.0, date_deadline=cls.today - timedelta(days=1)
        )
        cls.undated = cls._lead("needs", name="Someday", expected_revenue=8000.0)
        cls.lost = cls._lead("proposal", name="Gone", expected_revenue=90000.0, date_deadline=closing)
        cls.lost.action_set_lost()

    def _month(self, month, aggregates):
        Forecast = self.env["sales.funnel.forecast"]
        [row] = Forecast._read_group(
            [("team_id", "=", self.team.id), ("month", "=", month)], aggregates=aggregates
        )
        return row

    def test_weighted_month_and_its_band(self):
        likely, spread, low, high, weighted = self._month(
            self.next_month,
            ["likely_amount:sum", "spread:sum", "low_amount:sum", "high_amount:sum", "weighted_amount:sum"],
        )
        self.assertAlmostEqual(weighted, 155000.0)
        self.assertAlmostEqual(likely, 155000.0)
        expected_spread = math.sqrt(100000.0**2 * 0.1875 + 200000.0**2 * 0.25 + 40000.0**2 * 0.1875)
        self.assertAlmostEqual(expected_spread, 110340.38, places=2)
        self.assertAlmostEqual(spread, expected_spread, places=2)
        self.assertAlmostEqual(low, 155000.0 - expected_spread, places=2)
        self.assertAlmostEqual(high, 155000.0 + expected_spread, places=2)

    def test_won_in_the_month_won_overdue_and_undated_apart(self):
        won, likely, spread = self._month(
            self.this_month, ["won_amount:sum", "likely_amount:sum", "spread:sum"]
        )
        self.assertEqual((won, likely, spread), (50000.0, 50000.0, 0.0), "a won deal is certain")
        rows = self.env["sales.funnel.forecast"].search([("team_id", "=", self.team.id)])
        status = {row.lead_id.name: (row.status, row.month) for row in rows}
        self.assertEqual(status["Late"], ("overdue", False))
        self.assertEqual(status["Someday"], ("undated", False))
        self.assertNotIn("Gone", status, "lost: no forecast")
        overdue = rows.filtered(lambda row: row.status == "overdue")
        self.assertEqual(overdue.weighted_amount, 5000.0)

    def test_plan_forecast_against_its_target(self):
        plan = self.env["sales.funnel.plan"].create(
            {
                "team_id": self.team.id,
                "date_from": self.this_month,
                "date_to": self.next_month + relativedelta(months=1, days=-1),
                "target_amount": 500000.0,
            }
        )
        self.assertEqual(plan.forecast_won, 50000.0)
        self.assertEqual(plan.forecast_open, 155000.0)
        self.assertEqual(plan.forecast_likely, 205000.0)
        self.assertAlmostEqual(plan.forecast_spread, 110340.38, places=2)
        self.assertEqual((plan.forecast_overdue, plan.forecast_overdue_count), (5000.0, 1))
        # the month after the period is not in it
        self.open[0].date_deadline = self.next_month + relativedelta(months=1, days=2)
        self.env.invalidate_all()
        self.assertEqual(plan.forecast_open, 130000.0)
        # a period from the middle of a month: the days before it are not in it
        plan.date_from = self.next_month + timedelta(days=10)  # the deals close on its 10th
        self.env.invalidate_all()
        self.assertEqual((plan.forecast_won, plan.forecast_open), (0.0, 0.0))

    def test_salesperson_reads_their_own(self):
        self.open[0].user_id = self.manager
        rows = (
            self.env["sales.funnel.forecast"]
            .with_user(self.salesman)
            .search([("team_id", "=", self.team.id)])
        )
        self.assertNotIn("Scanners", rows.lead_id.mapped("name"))
        self.assertIn("Fleet", rows.lead_id.mapped("name"))

    def test_the_workbook_and_the_mail_read_the_same_lines(self):
        lines = self.env["sales.funnel.forecast"].get_forecast([("team_id", "=", self.team.id)])
        self.assertEqual(len(lines), 5, "three months, then overdue and undated")
        this, following, third, overdue, undated = lines
        self.assertEqual((this["won"], this["likely"], this["spread"]), (50000.0, 50000.0, 0.0))
        self.assertAlmostEqual(following["likely"], 155000.0)
        self.assertAlmostEqual(following["spread"], 110340.38, places=2)
        self.assertAlmostEqual(following["low"], 155000.0 - following["spread"], places=2)
        self.assertEqual((third["likely"], third["count"]), (0.0, 0))
        self.assertEqual((overdue["label"], overdue["count"], overdue["weighted"]), ("Overdue", 1, 5000.0))
        self.assertEqual((undated["count"], undated["weighted"]), (1, 2000.0), "8,000 at 25 %")
        # the workbook's sheet, as the manager exports the team
        export = (
            self.env["sales.funnel.export"]
            .with_user(self.manager)
            .create({"team_ids": [(6, 0, self.team.ids)]})
            ._in_export_companies()
        )
        book = openpyxl.load_workbook(io.BytesIO(export._workbook()))
        rows = [row for row in book["Forecast"].iter_rows(values_only=True) if row[0]]
        self.assertEqual(rows[0][:4], ("Closing Month", "Won", "Weighted Open", "Likely"))
        sheet = {row[0]: row for row in rows[1:6]}
        self.assertAlmostEqual(sheet[following["label"]][3], 155000.0)
        self.assertAlmostEqual(sheet[following["label"]][4], 110340.38, places=2)
        self.assertEqual(sheet["Overdue"][2], 5000.0)
        # the weekly mail's section, in the reader's currency
        mail = self.env["sales.funnel.weekly.report"]._forecast(export)
        self.assertEqual(mail[1]["likely"], "$\xa0155,000.00")

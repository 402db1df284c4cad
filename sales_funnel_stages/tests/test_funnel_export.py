import io
import zipfile
from datetime import date, datetime, timedelta
from unittest.mock import patch

import openpyxl
from freezegun import freeze_time
from markupsafe import escape

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.sales_funnel_stages.wizards.sales_funnel_export import BREAKDOWNS

from .common import FunnelCase

MONDAY = datetime(2026, 3, 2, 9, 0)
STEPS = ["identify", "needs", "solution", "proposal", "negotiation", "after_sales"]
# The week of MONDAY, moves dated in days from it: (opportunity, salesperson,
# amount, [(day, step entered)], day lost). No regression: every move goes
# further down the funnel.
WEEK = [
    ("A", "salesman", 1000.0,
     [(0, "identify"), (1, "needs"), (2, "solution"), (3, "proposal"), (4, "after_sales")], None),
    ("B", "salesman", 2000.0, [(0, "identify"), (1, "needs"), (3, "solution")], 4),
    ("C", "salesman", 4000.0, [(0, "identify"), (2, "needs")], None),
    ("D", "other", 8000.0, [(1, "identify")], None),
    ("E", "other", 16000.0, [(0, "identify"), (2, "proposal")], None),
    ("F", "other", 500.0, [(0, "identify")], 1),
]  # fmt: skip
# The week before, for the comparison
WEEK_BEFORE = [
    ("G", "salesman", 3000.0, [(-7, "identify"), (-6, "needs")], None),
    ("H", "salesman", 1500.0, [(-5, "identify")], -4),
]
EXPORTED_ON = 7  # the Monday after, 9:00 UTC
RATES = {"conversion", "won_rate"}
MEASURES = {
    "Entered": "entered",
    "Advanced": "advanced",
    "Lost": "lost",
    "Conversion to Next": "conversion",
    "Conversion to Won": "won_rate",
    "Days in Step": "days",
    "Amount": "amount",
    "Weighted Amount": "weighted",
}


def day(number):
    return MONDAY + timedelta(days=number)


class FunnelExportCase(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False
        cls.other = new_test_user(cls.env, "funnel_export_other", groups="sales_team.group_sale_salesman")
        cls.team.member_ids |= cls.other
        cls.users = {"salesman": cls.salesman, "other": cls.other}
        # labels and periods are the reader's: the week of MONDAY in Shanghai
        cls.manager.tz = "Asia/Shanghai"

    @classmethod
    def _play(cls, history):
        """Create the opportunities of `history` and move them, each change
        on its own day (crm dates closings with the clock)."""
        leads = {}
        days = sorted(
            {d for *_, moves, lost in history for d in [m[0] for m in moves] + [lost] if d is not None}
        )
        for number in days:
            when = day(number)
            with freeze_time(when):
                Lead = cls.env["crm.lead"].with_context(funnel_event_date=when)
                for name, user, amount, moves, lost in history:
                    for code in (code for move_day, code in moves if move_day == number):
                        if name in leads:
                            leads[name].with_context(funnel_event_date=when).stage_id = cls.stage[code]
                        else:
                            leads[name] = Lead.create(
                                {"name": name, "type": "opportunity", "team_id": cls.team.id,
                                 "user_id": cls.users[user].id, "stage_id": cls.stage[code].id,
                                 "expected_revenue": amount}
                            )  # fmt: skip
                    if lost == number:
                        leads[name].with_context(funnel_event_date=when).action_set_lost()
        return leads

    def _export(self, **values):
        """The workbook of a wizard created and run by the manager."""
        with freeze_time(day(EXPORTED_ON)):
            wizard = self.env["sales.funnel.export"].with_user(self.manager).create(values)
            action = wizard.action_export()
            workbook = wizard._in_export_companies()._workbook()
        self.assertEqual(
            action, {"type": "ir.actions.act_url", "url": wizard._download_url(), "target": "download"}
        )
        return self._read(workbook)

    @staticmethod
    def _read(data):
        book = openpyxl.load_workbook(io.BytesIO(data))
        book.raw = data
        return book

    @staticmethod
    def _rows(sheet):
        return list(sheet.iter_rows(values_only=True))

    def _table(self, sheet, first_header):
        """{first column: {header: value}} of the table whose header starts
        with `first_header`, down to its first empty row."""
        rows = self._rows(sheet)
        start = next(index for index, row in enumerate(rows) if row[0] == first_header)
        header, table = rows[start], {}
        for row in rows[start + 1 :]:
            if row[0] is None:
                break
            table[row[0]] = dict(zip(header, row, strict=True))
        return table

    # ------------------------------------------------------------ expected figures

    def _weight(self, code):
        return self.stage[code].funnel_weight / 100.0

    def _expected_funnel(self, history, now=EXPORTED_ON):
        """Per step, the funnel of `history` counted from its moves: who
        entered, went further, was lost there, is won; days spent (a lost
        one until the loss, an open one until the export, none in the won
        step); amounts, weighted by each opportunity's stage now."""
        funnel = {code: dict.fromkeys(["entered", "advanced", "lost", "won", "days", "amount", "weighted"], 0.0)
                  for code in STEPS}  # fmt: skip
        for _name, _user, amount, moves, lost in history:
            last = moves[-1][1]
            won = last == "after_sales"
            weighted = 0.0 if lost is not None else amount * self._weight(last)
            for index, (entered_on, code) in enumerate(moves):
                if index + 1 < len(moves):
                    left_on = moves[index + 1][0]
                elif won:
                    left_on = entered_on
                else:
                    left_on = lost if lost is not None else now
                step = funnel[code]
                step["entered"] += 1
                step["advanced"] += index + 1 < len(moves)
                step["lost"] += index + 1 == len(moves) and lost is not None
                step["won"] += won
                step["days"] += left_on - entered_on
                step["amount"] += amount
                step["weighted"] += weighted
        for step in funnel.values():
            entered = step["entered"]
            step["conversion"] = step["advanced"] / entered if entered else 0.0
            step["won_rate"] = step["won"] / entered if entered else 0.0
            step["days"] = step["days"] / entered if entered else 0.0
        return funnel

    def _expected_kpis(self, history):
        funnel = self._expected_funnel(history)
        won = [(amount, moves) for _n, _u, amount, moves, _l in history if moves[-1][1] == "after_sales"]
        still_open = [(amount, moves) for _n, _u, amount, moves, lost in history
                      if lost is None and moves[-1][1] != "after_sales"]  # fmt: skip
        win_rate = len(won) / len(history)
        deal_size = sum(amount for amount, _moves in won) / len(won) if won else 0.0
        cycle = sum(moves[-1][0] - moves[0][0] for _amount, moves in won) / len(won) if won else 0.0
        reached = [code for code in STEPS[:-1] if funnel[code]["entered"]]
        weakest = min(reached, key=lambda code: funnel[code]["conversion"])  # the first on a tie
        return {
            "Entered the Funnel": len(history),
            "Won": len(won),
            "Win Rate": win_rate,
            "Average Deal Size": deal_size,
            "Average Cycle (Days)": cycle,
            "Open Opportunities": len(still_open),
            "Weighted Pipeline": sum(amount * self._weight(moves[-1][1]) for amount, moves in still_open),
            "Sales Velocity (per Day)": len(still_open) * win_rate * deal_size / cycle if cycle else 0.0,
            "Weakest Conversion Step": self.step[weakest].name,
            "Weakest Step: Conversion to Next": funnel[weakest]["conversion"],
        }

    def _assert_measures(self, actual, expected, header=""):
        for label, key in MEASURES.items():
            column = f"{label}{header}"
            with self.subTest(column=column):
                self.assertAlmostEqual(actual[column], expected[key], places=6)


@tagged("post_install", "-at_install")
class TestFunnelExport(FunnelExportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leads = cls._play(WEEK + WEEK_BEFORE)
        # the team alone: the database may hold other opportunities
        cls.week = {"period": "custom", "date_from": date(2026, 3, 2), "date_to": date(2026, 3, 8),
                    "team_ids": [(6, 0, cls.team.ids)]}  # fmt: skip

    def test_summary_matches_the_history(self):
        book = self._export(**self.week)
        self.assertEqual(book.sheetnames[0], "Summary")
        summary = book["Summary"]
        table = self._table(summary, "Funnel Step")
        expected = self._expected_funnel(WEEK)
        self.assertEqual(list(table), [self.step[code].name for code in STEPS])
        for code in STEPS:
            with self.subTest(step=code):
                self._assert_measures(table[self.step[code].name], expected[code])
        kpis = self._table(summary, "Indicator")
        for label, value in self._expected_kpis(WEEK).items():
            with self.subTest(kpi=label):
                actual = kpis[label]["Value"]
                if isinstance(value, str):
                    self.assertEqual(actual, value)
                else:
                    self.assertAlmostEqual(actual, value, places=6)
        # scope, formats and the chart
        rows = {row[0]: row[1:3] for row in self._rows(summary) if row[0]}
        self.assertEqual(rows["Period"], (datetime(2026, 3, 2), datetime(2026, 3, 8)))
        self.assertEqual(rows["Currency"][0], self.company.currency_id.name)
        header_row = next(cell.row for cell in summary["A"] if cell.value == "Funnel Step")
        self.assertEqual(summary.freeze_panes, f"B{header_row + 1}")
        self.assertEqual(summary.auto_filter.ref, f"A{header_row}:I{header_row + 6}")
        self.assertIn("%", summary.cell(header_row + 1, 5).number_format)
        self.assertIn(self.company.currency_id.symbol, summary.cell(header_row + 1, 8).number_format)
        self.assertEqual(summary.cell(3, 2).number_format, "yyyy-mm-dd")
        charts = [name for name in zipfile.ZipFile(io.BytesIO(book.raw)).namelist() if "charts/chart" in name]
        self.assertEqual(len(charts), 1, "the funnel chart")
        chart = zipfile.ZipFile(io.BytesIO(book.raw)).read(charts[0]).decode()
        self.assertIn("<c:barChart>", chart)
        self.assertRegex(chart, r'<c:catAx>.*<c:orientation val="maxMin"/>.*</c:catAx>', "first step on top")
        self.assertEqual(book.properties.title, "Sales Funnel Report")
        self.assertIn("2026-03-02", book.properties.subject)

    def test_screens_agree(self):
        """The chart and the pivot (`get_funnel`), the workbook's Summary
        sheet and the planner read one definition of each measure: the same
        figures as the test's own count of the moves."""
        expected = self._expected_funnel(WEEK)
        table = self._table(self._export(**self.week)["Summary"], "Funnel Step")
        with freeze_time(day(EXPORTED_ON)):
            wizard = self.env["sales.funnel.export"].with_user(self.manager).create(self.week)
            chart = {line["step_code"]: line for line in wizard._funnel(wizard.date_from, wizard.date_to)}
        for code in STEPS:
            with self.subTest(step=code):
                mine, sheet = expected[code], table[self.step[code].name]
                self.assertEqual(
                    (chart[code]["entered_count"], chart[code]["advanced_count"], chart[code]["lost_count"]),
                    (mine["entered"], mine["advanced"], mine["lost"]),
                )
                self.assertEqual((sheet["Entered"], sheet["Advanced"], sheet["Lost"]),
                                 (mine["entered"], mine["advanced"], mine["lost"]))  # fmt: skip
                self.assertAlmostEqual(chart[code]["conversion_rate"] / 100.0, mine["conversion"])
                self.assertAlmostEqual(sheet["Conversion to Next"], mine["conversion"])
        # the planner: conversion of those that left the step, over the last 12 months (both weeks)
        both = self._expected_funnel(WEEK + WEEK_BEFORE)
        plan = self.env["sales.funnel.plan"].create({"team_id": self.team.id, "target_amount": 100000.0})
        lines = plan.step_ids.filtered(lambda line: line.step_id.code != "after_sales")
        self.assertEqual(len(lines), len(STEPS) - 1)
        self.assertTrue(any(line.measured_transitions for line in lines))
        for line in lines:
            counts = both[line.step_id.code]
            decided = counts["advanced"] + counts["lost"]
            with self.subTest(plan_step=line.step_id.code):
                self.assertEqual(line.measured_transitions, decided)
                self.assertAlmostEqual(
                    line.measured_conversion,
                    round(100.0 * counts["advanced"] / decided, 2) if decided else 0.0,
                )

    def test_breakdown_by_salesperson(self):
        sheet = self._export(**self.week)["Salesperson"]
        rows = self._rows(sheet)
        header = rows[0]
        actual = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows[1:]}
        expected = {}
        for key, user in self.users.items():
            funnel = self._expected_funnel([line for line in WEEK if line[1] == key])
            expected.update(
                {(user.name, self.step[code].name): funnel[code] for code in STEPS if funnel[code]["entered"]}
            )
        self.assertEqual(set(actual), set(expected))
        for key, values in expected.items():
            with self.subTest(row=key):
                self._assert_measures(actual[key], values)
        self.assertEqual(sheet.freeze_panes, "B2")
        self.assertEqual(sheet.auto_filter.ref, f"A1:J{len(rows)}")

    def test_comparison_period(self):
        book = self._export(**self.week, comparison="previous_period")
        summary = book["Summary"]
        rows = {row[0]: row[1:3] for row in self._rows(summary) if row[0]}
        self.assertEqual(rows["Comparison Period"], (datetime(2026, 2, 23), datetime(2026, 3, 1)))
        table = self._table(summary, "Funnel Step")
        now, before = self._expected_funnel(WEEK), self._expected_funnel(WEEK_BEFORE)
        for code in STEPS:
            with self.subTest(step=code):
                line = table[self.step[code].name]
                self._assert_measures(line, now[code])
                self._assert_measures(line, before[code], ", comparison")
                # a rate's change in percentage points
                self._assert_measures(
                    line,
                    {key: (now[code][key] - before[code][key]) * (100 if key in RATES else 1)
                     for key in MEASURES.values()},
                    ", change",
                )  # fmt: skip
        kpis = self._table(summary, "Indicator")
        expected_now = self._expected_kpis(WEEK)
        for label, value in self._expected_kpis(WEEK_BEFORE).items():
            with self.subTest(kpi=label):
                line = kpis[label]
                if isinstance(value, str):
                    self.assertEqual((line["Comparison"], line["Change"]), (value, None))
                else:
                    self.assertAlmostEqual(line["Comparison"], value, places=6)
                    points = 100 if label in ("Win Rate", "Weakest Step: Conversion to Next") else 1
                    self.assertAlmostEqual(line["Change"], (expected_now[label] - value) * points, places=6)
        self.assertEqual(kpis["Weakest Conversion Step"]["Comparison"], self.step["needs"].name)
        header = next(row for row in summary.iter_rows() if row[0].value == "Funnel Step")
        formats = {cell.value: summary.cell(cell.row + 1, cell.column).number_format for cell in header}
        self.assertEqual(formats["Conversion to Next, change"], '+0.0 "pts";-0.0 "pts";0.0 "pts"')
        self.assertEqual(formats["Conversion to Next"], "0.0%")
        self.assertEqual(formats["Entered, change"], "#,##0")

    def test_other_sheets(self):
        # crm dates stage updates with the transaction's clock, not the test's
        self.leads["E"].date_last_stage_update = day(2)
        book = self._export(**self.week)
        self.assertEqual(
            book.sheetnames,
            ["Summary", "Salesperson", "Sales Team", "Tier", "MAN Class", "Source", "Deal Size",
             "Stage Durations", "Forecast", "Open Pipeline", "Transitions"],
        )  # fmt: skip
        durations = self._rows(book["Stage Durations"])
        first = dict(zip(durations[0], durations[1], strict=True))
        self.assertEqual(
            (first["Sales Team"], first["Funnel Step"]), (self.team.name, self.step["identify"].name)
        )
        self.assertEqual(first["Entered"], 6)
        self.assertAlmostEqual(first["Average Days"], self._expected_funnel(WEEK)["identify"]["days"])
        pipeline = self._table(book["Open Pipeline"], "Opportunity")
        self.assertEqual(set(pipeline), {"C", "D", "E", "G"}, "open opportunities, today")
        self.assertEqual(pipeline["E"]["Funnel Step"], self.step["proposal"].name)
        self.assertEqual(pipeline["E"]["Weighted Amount"], 16000.0 * self._weight("proposal"))
        self.assertEqual(pipeline["E"]["Days in Stage"], 5)
        self.assertEqual(pipeline["D"]["Salesperson"], self.other.name)
        transitions = self._rows(book["Transitions"])
        self.assertEqual(
            len(transitions) - 1, sum(len(moves) + (lost is not None) for *_r, moves, lost in WEEK)
        )
        first = transitions[1]
        self.assertEqual(first[0], day(0) + timedelta(hours=8), "in the reader's time zone")
        self.assertEqual(first[2], "Entered")
        self.assertEqual(book["Transitions"].freeze_panes, "B2")
        # only the period: the week before has moves of its own
        self.assertNotIn("G", {row[1] for row in transitions})
        # deal sizes with their range, from the company's edges
        sizes = {row[0] for row in self._rows(book["Deal Size"])[1:]}
        self.assertLessEqual(
            sizes,
            {
                "Small deal (below 10,000)",
                "Medium deal (10,000 to 30,000)",
                "Large deal (30,000 to 50,000)",
                "Very large deal (50,000 and above)",
            },
        )
        self.assertTrue(sizes)

    def test_largest_open_opportunities_first(self):
        """Past `PIPELINE_ROWS`, the pipeline sheet keeps the largest
        weighted amounts, and says how many there are in all."""
        everything = self._table(self._export(**self.week)["Open Pipeline"], "Opportunity")
        largest = sorted(everything, key=lambda name: -everything[name]["Weighted Amount"])[:2]
        with patch("odoo.addons.sales_funnel_stages.wizards.sales_funnel_workbook.PIPELINE_ROWS", 2):
            book = self._export(**self.week)
        self.assertEqual(list(self._table(book["Open Pipeline"], "Opportunity")), largest)
        self.assertIn(
            f"The 2 largest of {len(everything)} open opportunities by weighted amount: CRM's pipeline lists them "
            "all.",
            [row[0] for row in self._rows(book["Open Pipeline"])],
        )

    def test_won_row_explained(self):
        """Under the funnel table, a note says why the won row may count
        more entries than wins: reopened deals."""
        rows = self._rows(self._export(**self.week)["Summary"])
        self.assertIn(
            "On the won step, Entered counts the deals won in the period; Won, those of them still won "
            "(a deal reopened since is not).",
            [row[0] for row in rows],
        )

    def test_print_ready(self):
        """Printed: landscape, one page wide, the header on every page; the
        summary (table, key figures, chart) on one page."""
        book = self._export(**self.week, comparison="previous_period")
        for sheet in book.worksheets:
            with self.subTest(sheet=sheet.title):
                self.assertEqual(sheet.page_setup.orientation, "landscape")
                self.assertTrue(sheet.sheet_properties.pageSetUpPr.fitToPage)
                self.assertIn(sheet.page_setup.fitToWidth, (None, 1), "1, the default, is not written")
        self.assertIn(book["Summary"].page_setup.fitToHeight, (None, 1))
        self.assertEqual(book["Transitions"].page_setup.fitToHeight, 0, "as many pages down as it takes")
        self.assertEqual(book["Transitions"].print_title_rows, "$1:$1")
        summary = book["Summary"]
        header = next(row for row in summary.iter_rows() if row[0].value == "Funnel Step")[0].row
        self.assertEqual(summary.print_title_rows, f"${header}:${header}")
        self.assertGreaterEqual(
            summary.row_dimensions[header].height, 45, "wrapped headers stay in their row"
        )

    def test_filters_by_salesperson(self):
        book = self._export(**self.week, user_ids=[(6, 0, self.other.ids)], breakdown_team=False)
        self.assertNotIn("Sales Team", book.sheetnames)
        table = self._table(book["Summary"], "Funnel Step")
        expected = self._expected_funnel([line for line in WEEK if line[1] == "other"])
        for code in STEPS:
            with self.subTest(step=code):
                self._assert_measures(table[self.step[code].name], expected[code])

    def test_user_text_stays_text(self):
        customer = self.env["res.partner"].create({"name": "=1+2"})
        self.leads["C"].write({"name": '=HYPERLINK("http://x","y")', "partner_id": customer.id})
        book = self._export(**self.week)
        pipeline = book["Open Pipeline"]
        cells = {cell.value: cell for row in pipeline.iter_rows() for cell in row}
        for text in ('=HYPERLINK("http://x","y")', "=1+2"):
            with self.subTest(text=text):
                self.assertEqual(cells[text].data_type, "s")
        transitions = {row[1].value: row[1] for row in book["Transitions"].iter_rows(min_row=2)}
        self.assertEqual(transitions['=HYPERLINK("http://x","y")'].data_type, "s")
        archive = zipfile.ZipFile(io.BytesIO(book.raw))
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                with self.subTest(sheet=name):
                    self.assertNotIn(b"<f>", archive.read(name), "no formula anywhere")

    def test_empty_period(self):
        book = self._export(period="custom", date_from=date(2020, 1, 6), date_to=date(2020, 1, 12))
        note = "There is no funnel data for this period."
        summary = self._rows(book["Summary"])
        self.assertIn(note, [row[0] for row in summary])
        self.assertNotIn("Funnel Step", [row[0] for row in summary])
        for name in ("Salesperson", "Deal Size", "Stage Durations", "Transitions"):
            with self.subTest(sheet=name):
                self.assertEqual(self._rows(book[name])[1][0], note)
        self.assertEqual(
            set(self._table(book["Open Pipeline"], "Opportunity")), {"C", "D", "E", "G"}, "today's"
        )

    def test_presets_and_bad_input(self):
        Export = self.env["sales.funnel.export"].with_user(self.manager)
        periods = (
            "this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter", "this_year",
            "last_year",
        )  # fmt: skip
        with freeze_time("2026-03-11 12:00"):
            wizards = Export.create([{"period": period} for period in periods])
            last_month = Export.create({"period": "last_month", "comparison": "previous_period"})
            custom = Export.create({**self.week, "comparison": "previous_year"})
        self.assertEqual(
            {wizard.period: (wizard.date_from.isoformat(), wizard.date_to.isoformat()) for wizard in wizards},
            {
                "this_week": ("2026-03-09", "2026-03-15"),
                "last_week": ("2026-03-02", "2026-03-08"),
                "this_month": ("2026-03-01", "2026-03-31"),
                "last_month": ("2026-02-01", "2026-02-28"),
                "this_quarter": ("2026-01-01", "2026-03-31"),
                "last_quarter": ("2025-10-01", "2025-12-31"),
                "this_year": ("2026-01-01", "2026-12-31"),
                "last_year": ("2025-01-01", "2025-12-31"),
            },
        )
        self.assertEqual(
            (last_month.compare_date_from, last_month.compare_date_to), (date(2026, 1, 1), date(2026, 1, 31))
        )
        self.assertEqual(
            (custom.compare_date_from, custom.compare_date_to), (date(2025, 3, 2), date(2025, 3, 8))
        )
        with self.assertRaisesRegex(ValidationError, "ends .* before it starts"):
            Export.create({"period": "custom", "date_from": date(2026, 3, 8), "date_to": date(2026, 3, 2)})
        with self.assertRaisesRegex(ValidationError, "comparison period ends"):
            Export.create({**self.week, "comparison": "custom", "compare_date_from": date(2026, 2, 8),
                           "compare_date_to": date(2026, 2, 2)})  # fmt: skip
        with self.assertRaisesRegex(UserError, "at least one company"):
            Export.create({**self.week, "company_ids": [(5, 0, 0)]}).action_export()
        nothing = dict.fromkeys(BREAKDOWNS, False)
        with self.assertRaisesRegex(UserError, "at least one breakdown"):
            Export.create({**self.week, **nothing}).action_export()

    def test_salesperson_refused(self):
        with self.assertRaises(AccessError):
            self.env["sales.funnel.export"].with_user(self.salesman).create(self.week)
        wizard = self.env["sales.funnel.export"].with_user(self.manager).create(self.week)
        with self.assertRaises(AccessError):
            wizard.with_user(self.salesman).action_export()
        menu = self.env.ref("sales_funnel_stages.sales_funnel_export_menu")
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids())
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids())

    def test_team_leader_exports(self):
        """A team leader with "All Documents" exports what their rules let
        them read, as the weekly mail sends them."""
        leader = new_test_user(
            self.env, "funnel_export_team_leader", groups="sales_team.group_sale_salesman_all_leads"
        )
        self.team.user_id = leader
        menu = self.env.ref("sales_funnel_stages.sales_funnel_export_menu")
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(leader)._visible_menu_ids())
        with freeze_time(day(EXPORTED_ON)):
            wizard = self.env["sales.funnel.export"].with_user(leader).create(self.week)
            wizard.action_export()
            workbook = wizard._in_export_companies()._workbook()
        table = self._table(self._read(workbook)["Summary"], "Funnel Step")
        expected = self._expected_funnel(WEEK)
        self.assertEqual(
            [table[self.step[code].name]["Entered"] for code in STEPS],
            [expected[code]["entered"] for code in STEPS],
        )


@tagged("post_install", "-at_install")
class TestFunnelExportCompanies(FunnelExportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        home = cls.company.currency_id
        foreign = cls.env.ref("base.EUR") if home != cls.env.ref("base.EUR") else cls.env.ref("base.USD")
        foreign.active = True
        cls.env["res.currency.rate"].search([("currency_id", "in", (home | foreign).ids)]).unlink()
        cls.env["res.currency.rate"].create(
            [
                {"currency_id": home.id, "rate": 1.0, "name": date(2026, 1, 1)},
                {"currency_id": foreign.id, "rate": 2.0, "name": date(2026, 1, 1)},
            ]
        )
        cls.abroad = cls.env["res.company"].create({"name": "Funnel Abroad", "currency_id": foreign.id})
        cls.manager.company_ids |= cls.abroad
        cls.other.company_ids |= cls.abroad
        cls.home_lead = cls._play(WEEK[:1])["A"]
        with freeze_time(day(0)):
            Lead = cls.env["crm.lead"].with_context(funnel_event_date=day(0))
            cls.abroad_lead = Lead.create(
                {"name": "Abroad", "type": "opportunity", "company_id": cls.abroad.id, "user_id": cls.other.id,
                 "team_id": False, "stage_id": cls.stage["needs"].id, "expected_revenue": 1000.0}
            )  # fmt: skip
        # their salespeople alone: the database may hold other opportunities
        cls.week = {"period": "custom", "date_from": date(2026, 3, 2), "date_to": date(2026, 3, 8),
                    "user_ids": [(6, 0, (cls.salesman | cls.other).ids)]}  # fmt: skip

    def test_amounts_in_the_company_currency(self):
        book = self._export(**self.week, company_ids=[(6, 0, (self.company | self.abroad).ids)])
        table = self._table(book["Summary"], "Funnel Step")
        needs = table[self.step["needs"].name]
        self.assertEqual(needs["Entered"], 2)
        self.assertEqual(needs["Amount"], 1000.0 + 1000.0 / 2.0)
        pipeline = self._table(book["Open Pipeline"], "Opportunity")
        self.assertEqual(pipeline["Abroad"]["Amount"], 500.0)
        self.assertEqual(pipeline["Abroad"]["Weighted Amount"], 500.0 * self._weight("needs"))
        transitions = {row[1]: row for row in self._rows(book["Transitions"])[1:]}
        self.assertEqual(transitions["Abroad"][10], 500.0)
        self.assertEqual(transitions["Abroad"][9], "Funnel Abroad")

    def test_deal_sizes_of_two_companies(self):
        """Each lead is sized by its own company's edges: with companies of
        other currencies in the workbook, no one range stands for a size."""
        both = self._export(**self.week, company_ids=[(6, 0, (self.company | self.abroad).ids)])
        sizes = {row[0] for row in self._rows(both["Deal Size"])[1:]}
        self.assertTrue(sizes)
        self.assertFalse({size for size in sizes if "(" in size}, sizes)
        home = self._export(**self.week, company_ids=[(6, 0, self.company.ids)])
        self.assertEqual({row[0] for row in self._rows(home["Deal Size"])[1:]}, {"Small deal (below 10,000)"})

    def test_chosen_companies_only(self):
        book = self._export(**self.week, company_ids=[(6, 0, self.company.ids)])
        table = self._table(book["Summary"], "Funnel Step")
        self.assertEqual(table[self.step["needs"].name]["Entered"], 1)
        self.assertNotIn("Abroad", self._table(book["Open Pipeline"], "Opportunity"))
        self.assertNotIn("Abroad", {row[1] for row in self._rows(book["Transitions"])})

    def test_currency_of_the_company_open_when_exporting(self):
        """The download carries no company: the workbook's currency is that
        of the company the manager had open when exporting, not their
        default one."""
        self.manager.company_id = self.abroad
        wizard = (
            self.env["sales.funnel.export"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.company.id, self.abroad.id])
            .create({**self.week, "company_ids": [(6, 0, (self.company | self.abroad).ids)]})
        )
        downloaded = wizard.with_env(wizard.env(context={}))
        self.assertEqual(downloaded.env.company, self.abroad, "the request's company")
        self.assertEqual(downloaded._in_export_companies().env.company, self.company)

    def test_companies_out_of_reach_refused(self):
        self.manager.company_ids -= self.abroad
        with self.assertRaises(AccessError):
            self._export(**self.week, company_ids=[(6, 0, (self.company | self.abroad).ids)])


@tagged("post_install", "-at_install")
class TestWeeklyFunnelReport(FunnelExportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader = new_test_user(
            cls.env, "funnel_export_leader", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.quiet = new_test_user(cls.env, "funnel_export_quiet", groups="sales_team.group_sale_salesman")
        cls.users = dict(cls.users, leader=cls.leader)
        cls.team.write({"user_id": cls.leader.id, "member_ids": [(4, cls.quiet.id)]})
        cls._play(WEEK)
        cls.Mail = cls.env["mail.mail"]

    def _run_cron(self):
        """The mails queued by a run on the Monday after the week, at 6:00."""
        before = self.Mail.search([])
        with freeze_time(day(EXPORTED_ON) - timedelta(hours=3)):
            self.env["sales.funnel.weekly.report"]._cron_send()
        return self.Mail.search([]) - before

    def _switch(self, active):
        self.env["res.config.settings"].create({"funnel_weekly_report": active}).execute()

    def test_switched_in_settings(self):
        cron = self.env.ref("sales_funnel_stages.ir_cron_weekly_funnel_report")
        self.assertFalse(cron.active, "off by default")
        self.assertFalse(self._run_cron(), "nothing sent while off")
        with freeze_time("2026-03-04 10:00"):
            self._switch(True)
        self.assertTrue(cron.active)
        self.assertEqual(cron.interval_type, "weeks")
        self.assertEqual(cron.nextcall.weekday(), 0, "on Mondays")
        self._switch(False)
        self.assertFalse(cron.active)

    def test_mails_queued(self):
        self._switch(True)
        mails = self._run_cron()
        ours = (self.leader | self.salesman | self.other | self.quiet).partner_id
        by_recipient = {mail.recipient_ids: mail for mail in mails if mail.recipient_ids & ours}
        self.assertEqual(
            set(by_recipient), {self.leader.partner_id, self.salesman.partner_id, self.other.partner_id},
            "the leader, and the salespeople whose funnel moved last week",
        )  # fmt: skip
        self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "queued, not sent")
        # the team leader: the workbook of the previous week for the team
        workbook = by_recipient[self.leader.partner_id]
        self.assertEqual(len(workbook.attachment_ids), 1)
        self.assertTrue(workbook.attachment_ids.name.endswith(".xlsx"))
        book = self._read(workbook.attachment_ids.raw)
        rows = {row[0]: row[1:3] for row in self._rows(book["Summary"]) if row[0]}
        self.assertEqual(rows["Period"], (datetime(2026, 3, 2), datetime(2026, 3, 8)))
        self.assertEqual(rows["Sales Teams"][0], self.team.name)
        table = self._table(book["Summary"], "Funnel Step")
        expected = self._expected_funnel(WEEK, now=EXPORTED_ON - 3 / 24)
        self._assert_measures(table[self.step["identify"].name], expected["identify"])
        self.assertIn("2026", workbook.subject)
        # salespeople: their own funnel, no attachment
        summary = by_recipient[self.salesman.partner_id]
        self.assertFalse(summary.attachment_ids)
        own = self._expected_funnel([line for line in WEEK if line[1] == "salesman"])
        body = summary.body_html
        for code in ("identify", "needs", "solution", "proposal", "after_sales"):
            self.assertIn(escape(self.step[code].name), body)
        self.assertIn(f'<td style="text-align: right;">{int(own["identify"]["entered"])}</td>', body)
        weakest = self._expected_kpis([line for line in WEEK if line[1] == "salesman"])[
            "Weakest Conversion Step"
        ]
        self.assertIn(f"Weakest conversion step: <strong>{weakest}</strong>", body)
        self.assertNotIn(self.step["needs"].name, by_recipient[self.other.partner_id].body_html, "their own")

    def test_what_the_reader_may_read(self):
        """An "Own Documents" team leader gets the workbook of their team as
        they would see it on screen: their own opportunities and the
        unassigned ones, not their members'."""
        self.leader.group_ids -= self.env.ref("sales_team.group_sale_salesman_all_leads")
        self.leader.group_ids |= self.env.ref("sales_team.group_sale_salesman")
        self.assertFalse(self.leader.has_group("sales_team.group_sale_salesman_all_leads"))
        self._play([("L", "leader", 700.0, [(0, "identify"), (1, "needs")], None)])
        self._switch(True)
        mails = self._run_cron().filtered(lambda mail: mail.recipient_ids == self.leader.partner_id)
        book = self._read(mails.attachment_ids.raw)
        table = self._table(book["Summary"], "Funnel Step")
        self.assertEqual(table[self.step["identify"].name]["Entered"], 1, "L alone, not A to F")
        self.assertEqual(table[self.step["needs"].name]["Amount"], 700.0)
        self.assertEqual(set(self._table(book["Open Pipeline"], "Opportunity")), {"L"})
        self.assertEqual({row[1] for row in self._rows(book["Transitions"])[1:]}, {"L"})


@tagged("post_install", "-at_install")
class TestFunnelExportButton(HttpCase):
    def test_button_on_the_funnel_views(self):
        new_test_user(self.env, "funnel_export_admin", groups="sales_team.group_sale_manager")
        # a real row: the chart draws it, the pivot and graph group it
        stage = self.env["crm.stage"].search([("funnel_step_id", "!=", False)], limit=1)
        self.env["crm.lead"].create({"name": "Exported", "type": "opportunity", "stage_id": stage.id})
        self.start_tour(
            "/odoo/action-sales_funnel_stages.sales_funnel_report_action",
            "sales_funnel_export_button_tour",
            login="funnel_export_admin",
        )

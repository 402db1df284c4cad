import math
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from fractions import Fraction
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .common import FunnelCase

CODES = ["identify", "needs", "solution", "proposal", "negotiation", "after_sales"]


def reverse_funnel(deals, conversions):
    """Funnel method, section 3, in exact arithmetic: `conversions` (percent)
    of each step to the next, in funnel order; the needs of the steps in
    funnel order, the last (won) step needing `deals`."""
    needs = [deals]
    for rate in reversed(conversions):
        needs.append(math.ceil(Fraction(needs[-1]) * 100 / Fraction(str(rate))))
    return list(reversed(needs))


@tagged("post_install", "-at_install")
class TestFunnelPlan(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False
        cls.Plan = cls.env["sales.funnel.plan"]

    def _plan(self, **values):
        return self.Plan.create({"team_id": self.team.id, "target_amount": 500000.0, **values})

    @contextmanager
    def _refused(self, pattern):
        """Refused with a message matching `pattern` (and rolled back)."""
        with self.assertRaises(ValidationError) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)

    @staticmethod
    def _lines(plan):
        return {line.step_id.code: line for line in plan.step_ids}

    @staticmethod
    def _sizes(plan):
        return {line.deal_size: line for line in plan.size_ids}

    def _set_conversions(self, plan, conversions):
        lines = self._lines(plan)
        plan.write(
            {
                "step_ids": [
                    Command.update(lines[code].id, {"conversion": rate}) for code, rate in conversions.items()
                ]
            }
        )

    def _set_sizes(self, plan, field, values):
        sizes = self._sizes(plan)
        plan.write(
            {"size_ids": [Command.update(sizes[size].id, {field: value}) for size, value in values.items()]}
        )

    def test_method_example(self):
        """Funnel method, section 3: 28 + 7 + 2 + 1 deals for 500,000, with
        75 %, 50 % and 25 % as step-to-step conversions: 38 -> 51 -> 102 -> 408."""
        plan = self._plan(plan_mode="deals")
        self._set_sizes(plan, "deal_count", {"small": 28, "medium": 7, "large": 2, "very_large": 1})
        self.assertEqual(plan.deals_needed, 38)
        # the 75 % band (proposal) closes at 75 %, through a negotiation that signs them all
        self._set_conversions(plan, {"negotiation": 100.0, "proposal": 75.0, "solution": 50.0, "needs": 25.0})
        lines = self._lines(plan)
        self.assertEqual(
            [
                lines[code].required_count
                for code in ("after_sales", "negotiation", "proposal", "solution", "needs")
            ],
            [38, 38, 51, 102, 408],
        )
        self.assertEqual(
            lines["identify"].required_count, math.ceil(Fraction(408 * 100, 40)), "40 % from weights"
        )
        self.assertEqual(
            {lines[code].conversion_source for code in ("negotiation", "proposal", "solution", "needs")},
            {"manual"},
        )
        # the reading used is visible: 75 % is the proposal's conversion, its
        # implied probability of closing is 75 % x 100 %, the solution's 50 % x 75 %
        self.assertAlmostEqual(lines["proposal"].closing_probability, 75.0)
        self.assertAlmostEqual(lines["solution"].closing_probability, 37.5)
        self.assertEqual([line.planned_count for line in plan.size_ids], [28, 7, 2, 1])

    def test_defaults_from_weights(self):
        """Without history, conversion k -> k+1 = weight k / weight k+1."""
        plan = self._plan(plan_mode="average", average_deal_size=12500.0)
        self.assertEqual(plan.deals_needed, math.ceil(Fraction(500000, 12500)))
        lines = self._lines(plan)
        weights = [self.step[code].weight for code in CODES]
        expected = [round(100 * weights[k] / weights[k + 1], 2) for k in range(len(CODES) - 1)]
        self.assertEqual(expected, [40.0, 50.0, 66.67, 83.33, 90.0])
        for code, rate in zip(CODES, expected, strict=False):
            with self.subTest(step=code):
                self.assertAlmostEqual(lines[code].conversion, rate, places=2)
                self.assertEqual(lines[code].conversion_source, "weights")
                self.assertAlmostEqual(lines[code].weight_conversion, rate, places=2)
        self.assertEqual(
            [lines[code].required_count for code in CODES], reverse_funnel(plan.deals_needed, expected)
        )

    def test_custom_stage_weight_changes_default(self):
        """The team's own stage weights, before the shared stages'."""
        self.stage["solution"].write({"funnel_weight_custom": True, "funnel_weight": 60.0})
        self.stage["proposal"].write({"funnel_weight_custom": True, "funnel_weight": 80.0})
        lines = self._lines(self._plan())
        self.assertAlmostEqual(lines["needs"].conversion, round(100 * 25 / 60, 2), places=2)
        self.assertAlmostEqual(lines["solution"].conversion, round(100 * 60 / 80, 2), places=2)
        self.assertAlmostEqual(lines["proposal"].conversion, round(100 * 80 / 90, 2), places=2)

    def _history(self, entered, advanced, lost):
        """`entered` opportunities entered lead identification two months
        ago; `advanced` of them moved to needs analysis, `lost` were lost."""
        when = fields.Datetime.now() - relativedelta(months=2)
        leads = self.env["crm.lead"].with_context(funnel_event_date=when).create(
            [
                {"name": f"History {i}", "type": "opportunity", "team_id": self.team.id,
                 "user_id": self.salesman.id, "stage_id": self.stage["identify"].id, "expected_revenue": 1000.0}
                for i in range(entered)
            ]
        )  # fmt: skip
        leads[:advanced].with_context(funnel_event_date=when + timedelta(days=3)).write(
            {"stage_id": self.stage["needs"].id}
        )
        leads[advanced : advanced + lost].with_context(
            funnel_event_date=when + timedelta(days=4)
        ).action_set_lost()
        return leads

    def test_defaults_measured_from_history(self):
        """Measured once enough opportunities left the step: 12 advanced and
        8 lost of 30 that entered is 20 transitions, 60 %; at, just below and
        just above the company's minimum."""
        self._history(entered=30, advanced=12, lost=8)
        measured = round(100 * Fraction(12, 12 + 8), 2)
        weights = round(100 * Fraction(10, 25), 2)
        for minimum, source, rate in [
            (19, "measured", measured),
            (20, "measured", measured),
            (21, "weights", weights),
        ]:
            with self.subTest(minimum=minimum):
                self.company.funnel_plan_min_transitions = minimum
                plan = self._plan()
                identify = self._lines(plan)["identify"]
                self.assertEqual(identify.measured_transitions, 20)
                self.assertAlmostEqual(identify.measured_conversion, float(measured), places=2)
                self.assertEqual(identify.conversion_source, source)
                self.assertAlmostEqual(identify.conversion, float(rate), places=2)
                # needs analysis: 12 entered, none left it yet
                self.assertEqual(self._lines(plan)["needs"].conversion_source, "weights")

    def test_measured_once_per_plan(self):
        """The default conversions and the measures shown beside them come
        from one reading of the team's funnel per plan, not one per field."""
        self._history(entered=30, advanced=12, lost=8)
        self.company.funnel_plan_min_transitions = 20
        Report = type(self.env["sales.funnel.report"])
        with patch.object(Report, "get_funnel", autospec=True, side_effect=Report.get_funnel) as get_funnel:
            plan = self._plan()
            lines = self._lines(plan)
            self.assertEqual(lines["identify"].conversion_source, "measured")
            self.assertEqual(lines["identify"].measured_transitions, 20)
            self.assertEqual(lines["needs"].weight_conversion, round(100 * 25 / 50, 2))
        self.assertEqual(get_funnel.call_count, 1)

    def test_reset_conversions(self):
        plan = self._plan()
        self._set_conversions(plan, {"identify": 10.0})
        self.assertEqual(self._lines(plan)["identify"].conversion_source, "manual")
        plan.action_reset_conversions()
        self.assertEqual(self._lines(plan)["identify"].conversion, 40.0)
        self.assertEqual(self._lines(plan)["identify"].conversion_source, "weights")

    def _won_at(self, amount, when=None, **values):
        """An opportunity won at `when` (now by default), as the stage
        history and crm's closing date both record it."""
        when = when or fields.Datetime.now()
        lead = self.env["crm.lead"].with_context(funnel_event_date=when - timedelta(days=5)).create(
            {"name": "Won", "type": "opportunity", "team_id": self.team.id, "user_id": self.salesman.id,
             "stage_id": self.stage["negotiation"].id, "expected_revenue": amount, **values}
        )  # fmt: skip
        with freeze_time(when):
            lead.with_context(funnel_event_date=when).action_set_won()
        return lead

    def test_average_deal_size_from_won_deals(self):
        """Default: the average of the team's deals won in the last 12 months."""
        amounts = [5000.0, 15000.0, 40000.0]
        for amount in amounts:
            self._won_at(amount)
        self._won_at(900000.0, fields.Datetime.now() - relativedelta(months=13))
        other_team = self.env["crm.team"].create({"name": "Other Funnel Team"})
        self._won_at(700000.0, team_id=other_team.id)
        plan = self._plan()
        self.assertEqual(plan.history_won_count, 3)
        self.assertEqual(plan.average_deal_size, sum(amounts) / len(amounts))
        self.assertEqual(plan.deals_needed, math.ceil(Fraction(500000) / Fraction(sum(amounts) / 3)))

    def test_size_mix(self):
        """Average deal size with a size mix: the deals split by the mix."""
        plan = self._plan(plan_mode="mix", target_amount=400000.0, average_deal_size=10000.0)
        self.assertEqual(sum(plan.size_ids.mapped("share")), 100.0, "an even default mix without history")
        self._set_sizes(plan, "share", {"small": 50.0, "medium": 25.0, "large": 15.0, "very_large": 10.0})
        self.assertEqual(plan.deals_needed, 40)
        self.assertEqual([line.planned_count for line in plan.size_ids], [20, 10, 6, 4])

    def test_historical_mix_same_period_last_year(self):
        """The size mix of the deals won in the plan's period a year earlier."""
        today = fields.Date.context_today(self.Plan)
        last_year = fields.Datetime.now() - relativedelta(years=1)
        for amount in [5000.0] * 5 + [20000.0] * 3 + [40000.0, 60000.0]:
            self._won_at(amount, last_year)
        self._won_at(5000.0)  # this year: not in the mix
        plan = self._plan(date_from=today - timedelta(days=10), date_to=today + timedelta(days=10))
        self.assertEqual(plan.reference_date_from, today - timedelta(days=10) - relativedelta(years=1))
        sizes = self._sizes(plan)
        self.assertEqual(
            [sizes[size].historical_count for size in ("small", "medium", "large", "very_large")],
            [5, 3, 1, 1],
        )
        self.assertEqual(
            [sizes[size].historical_share for size in ("small", "medium", "large", "very_large")],
            [50.0, 30.0, 10.0, 10.0],
        )
        self.assertEqual(
            [sizes[size].share for size in ("small", "medium", "large", "very_large")],
            [50.0, 30.0, 10.0, 10.0],
        )

    def test_reference_period_where_the_reader_is(self):
        """Won on 31 May 2025 at 18:00 UTC is won on 1 June in Shanghai: in
        the mix of a June reference period there, not in Los Angeles."""
        self._won_at(5000.0, datetime(2025, 5, 31, 18, 0))
        plan = self._plan(date_from=date(2026, 6, 1), date_to=date(2026, 6, 30))
        self.assertEqual(
            (plan.reference_date_from, plan.reference_date_to), (date(2025, 6, 1), date(2025, 6, 30))
        )
        self.assertEqual(plan.with_context(tz="Asia/Shanghai")._historical_mix(), {"small": 1})
        self.assertEqual(plan.with_context(tz="America/Los_Angeles")._historical_mix(), {})

    def test_coverage_and_gap_per_step_and_salesperson(self):
        other = new_test_user(self.env, "funnel_plan_other", groups="sales_team.group_sale_salesman")
        self.team.member_ids = [Command.link(other.id)]
        for _i in range(3):
            self._lead("proposal")
        self._lead("proposal", user_id=other.id)
        self._lead("needs", user_id=other.id)
        self._lead("needs", user_id=other.id)
        self._lead("negotiation").action_set_won()
        lost = self._lead("proposal")
        lost.action_set_lost()

        plan = self._plan(plan_mode="deals")
        self.assertEqual(sorted(plan.member_ids.mapped("share")), [50.0, 50.0])
        plan.write({"size_ids": [Command.update(self._sizes(plan)["small"].id, {"deal_count": 4})]})
        self._set_conversions(plan, dict.fromkeys(CODES[:-1], 50.0))
        needs = dict(zip(CODES, reverse_funnel(4, [50.0] * 5), strict=True))
        self.assertEqual(
            needs,
            {
                "identify": 128,
                "needs": 64,
                "solution": 32,
                "proposal": 16,
                "negotiation": 8,
                "after_sales": 4,
            },
        )
        lines = self._lines(plan)
        self.assertEqual({code: lines[code].required_count for code in CODES}, needs)
        self.assertEqual(lines["proposal"].current_count, 4)
        self.assertEqual(lines["proposal"].gap, 12)
        self.assertEqual(lines["proposal"].coverage, 25.0)
        self.assertEqual(lines["needs"].current_count, 2)
        self.assertEqual(lines["after_sales"].current_count, 1, "won in the plan's period")
        self.assertEqual(lines["after_sales"].gap, 3)

        coverage = {(line.user_id, line.step_id.code): line for line in plan.coverage_ids}
        self.assertEqual(len(coverage), 2 * len(CODES))
        mine, theirs = coverage[self.salesman, "proposal"], coverage[other, "proposal"]
        self.assertEqual((mine.required_count, mine.current_count, mine.gap), (8, 3, 5))
        self.assertEqual((theirs.required_count, theirs.current_count, theirs.gap), (8, 1, 7))
        self.assertEqual(coverage[other, "needs"].current_count, 2)
        self.assertEqual(coverage[self.salesman, "after_sales"].current_count, 1)
        self.assertEqual(coverage[self.salesman, "identify"].required_count, math.ceil(Fraction(128, 2)))

        # an uneven split
        members = {member.user_id: member for member in plan.member_ids}
        plan.write(
            {
                "member_ids": [
                    Command.update(members[self.salesman].id, {"share": 75.0}),
                    Command.update(members[other].id, {"share": 25.0}),
                ]
            }
        )
        self.assertEqual(
            coverage[self.salesman, "proposal"].required_count, math.ceil(Fraction(16 * 75, 100))
        )
        self.assertEqual(coverage[other, "proposal"].required_count, math.ceil(Fraction(16 * 25, 100)))
        self.assertEqual(members[self.salesman].deals_needed, 3)

    def test_plan_in_the_form(self):
        """As a manager fills the form: members from the team, an edited
        conversion marked as entered, the 500,000 example."""
        form = Form(self.Plan.with_user(self.manager))
        form.team_id = self.team
        form.target_amount = 500000.0
        form.plan_mode = "deals"
        for index, count in enumerate([28, 7, 2, 1]):
            with form.size_ids.edit(index) as line:
                line.deal_count = count
        for index, rate in [(1, 25.0), (2, 50.0), (3, 75.0), (4, 100.0)]:
            with form.step_ids.edit(index) as line:
                line.conversion = rate
        self.assertEqual(form.deals_needed, 38)
        plan = form.save()
        lines = self._lines(plan)
        self.assertEqual([lines[code].required_count for code in CODES[1:]], [408, 102, 51, 38, 38])
        self.assertEqual(lines["proposal"].conversion_source, "manual")
        self.assertEqual(lines["identify"].conversion_source, "weights")
        self.assertEqual(plan.member_ids.user_id, self.salesman)
        self.assertEqual(plan.member_ids.share, 100.0)
        self.assertEqual(len(plan.coverage_ids), len(CODES))

    def test_salesperson_plan(self):
        other = new_test_user(self.env, "funnel_plan_alone", groups="sales_team.group_sale_salesman")
        self._lead("proposal")
        self._lead("proposal", user_id=other.id)
        plan = self._plan(user_id=self.salesman.id)
        self.assertFalse(plan.member_ids, "a salesperson's plan is not split")
        self.assertEqual(self._lines(plan)["proposal"].current_count, 1)

    def test_bad_input_refused(self):
        with self._refused("revenue target .* cannot be negative"):
            self._plan(target_amount=-1.0)
        plan = self._plan(plan_mode="mix")
        sizes = self._sizes(plan)
        with self._refused(r"size mix .* must sum to 100 %, not 99.9 %"):
            self._set_sizes(plan, "share", {"small": 56.5, "medium": 27.8, "large": 11.0, "very_large": 4.6})
        self._set_sizes(plan, "share", {"small": 56.5, "medium": 27.8, "large": 11.1, "very_large": 4.6})
        lines = self._lines(plan)
        for rate in (0.0, -5.0, 100.5):
            with (
                self.subTest(rate=rate),
                self._refused("conversion from “Solution design” to the next step must be more than 0 %"),
            ):
                lines["solution"].conversion = rate
        lines["solution"].conversion = 100.0
        with self._refused("deal count .* cannot be negative"):
            sizes["small"].deal_count = -1
        with self._refused("must end after it starts"):
            plan.date_to = plan.date_from - timedelta(days=1)
        with self._refused("shares of .* must sum to 100 %, not 60.0 %"):
            plan.write({"member_ids": [Command.update(plan.member_ids[0].id, {"share": 60.0})]})
        with self._refused("is not a member of the sales team"):
            plan.write({"member_ids": [Command.create({"user_id": self.manager.id, "share": 0.0})]})

    def test_lines_checked_where_they_change(self):
        """Lines written, created or deleted on their own are checked as
        the plan's form checks them."""
        other = new_test_user(self.env, "plan_second_member", groups="sales_team.group_sale_salesman")
        self.team.member_ids |= other
        plan = self._plan(plan_mode="mix")
        members = plan.member_ids
        self.assertEqual(sorted(members.mapped("share")), [50.0, 50.0])
        with self._refused("shares of .* must sum to 100 %, not 140.0 %"):
            members[0].share = 90.0
        with self._refused("shares of .* must sum to 100 %, not 50.0 %"):
            members[0].unlink()
        with self._refused("is not a member of the sales team"):
            self.env["sales.funnel.plan.member"].create({"plan_id": plan.id, "user_id": self.manager.id})
        with self._refused("size mix .* must sum to 100 %, not 170.0 %"):
            self._sizes(plan)["small"].share += 70.0
        with self._refused("size mix .* must sum to 100 %"):
            self._sizes(plan)["large"].unlink()
        # the plan's own write checks all its lines once
        plan.write({"member_ids": [Command.update(members[0].id, {"share": 70.0}),
                                   Command.update(members[1].id, {"share": 30.0})]})  # fmt: skip
        self.assertEqual(sorted(plan.member_ids.mapped("share")), [30.0, 70.0])

    def test_manager_plans_salesman_cannot(self):
        plan = self.Plan.with_user(self.manager).create({"team_id": self.team.id, "target_amount": 1000.0})
        self.assertTrue(plan.step_ids)
        with self.assertRaises(AccessError):
            self.Plan.with_user(self.salesman).create({"team_id": self.team.id, "target_amount": 1000.0})

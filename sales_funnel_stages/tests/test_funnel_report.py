from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import FunnelCase

MONDAY = datetime(2026, 3, 2, 9, 0)


def day(n):
    return MONDAY + timedelta(days=n)


class FunnelReportCase(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False
        cls.Report = cls.env["sales.funnel.report"]

    def _create(self, count, stage_code="identify", when=MONDAY, **values):
        Lead = self.env["crm.lead"].with_context(funnel_event_date=when)
        return Lead.create(
            [
                {"name": f"Lead {i}", "type": "opportunity", "team_id": self.team.id, "user_id": self.salesman.id,
                 "stage_id": self.stage[stage_code].id, "expected_revenue": 1000.0, **values}
                for i in range(count)
            ]
        )  # fmt: skip

    @staticmethod
    def _move(leads, stage, when):
        leads.with_context(funnel_event_date=when).write({"stage_id": stage.id})

    def _funnel(self, leads, **kwargs):
        return {
            row["step_code"]: row for row in self.Report.get_funnel([("lead_id", "in", leads.ids)], **kwargs)
        }


@tagged("post_install", "-at_install")
class TestFunnelReport(FunnelReportCase):
    def test_weekly_example(self):
        """Funnel method, section 7: 100 -> 80 -> 40 -> 20 -> 10 -> 5 in a week."""
        leads = self._create(100)
        self._move(leads[:80], self.stage["needs"], day(1))
        self._move(leads[:40], self.stage["solution"], day(2))
        self._move(leads[:20], self.stage["proposal"], day(3))
        self._move(leads[:10], self.stage["negotiation"], day(4))
        self._move(leads[:5], self.stage["after_sales"], day(5))
        with freeze_time(day(8)):
            week = [("lead_id", "in", leads.ids), ("date", ">=", MONDAY), ("date", "<", day(7))]
            funnel = {row["step_code"]: row for row in self.Report.get_funnel(week)}
            kpis = self.Report.get_funnel_kpis(week)
        codes = ["identify", "needs", "solution", "proposal", "negotiation", "after_sales"]
        column = lambda name: [funnel[code][name] for code in codes]
        self.assertEqual(column("entered_count"), [100, 80, 40, 20, 10, 5])
        self.assertEqual(column("advanced_count"), [80, 40, 20, 10, 5, 0])
        self.assertEqual(column("current_count"), [20, 40, 20, 10, 5, 0])
        self.assertEqual(column("conversion_rate"), [80.0, 50.0, 50.0, 50.0, 50.0, 0.0])
        self.assertEqual(column("won_count"), [5, 5, 5, 5, 5, 5])
        self.assertEqual(column("won_rate"), [5.0, 6.25, 12.5, 25.0, 50.0, 100.0])
        self.assertEqual(column("lost_count"), [0] * 6)
        self.assertEqual(column("target_conversion"), [40.0, 50.0, 66.67, 83.33, 90.0, 0.0])
        # Monday 9:00 to the Tuesday after (8 days) for those still in the first step
        self.assertEqual(
            [round(value, 2) for value in column("days_in_step")], [2.4, 4.0, 3.5, 3.0, 2.5, 0.0]
        )
        self.assertEqual(column("days_in_step_median"), [1.0, 4.0, 3.5, 3.0, 2.5, 0.0])
        self.assertEqual(column("expected_revenue"), [100000.0, 80000.0, 40000.0, 20000.0, 10000.0, 5000.0])
        self.assertEqual(
            funnel["identify"]["weighted_revenue"],
            20 * 100 + 40 * 250 + 20 * 500 + 10 * 750 + 5 * 900 + 5 * 1000,
        )
        self.assertEqual(kpis["weakest_step_code"], "needs", "the first step converting at 50 %")
        self.assertEqual(kpis["entered"], 100)
        self.assertEqual(kpis["won"], 5)
        self.assertEqual(kpis["win_rate"], 5.0)
        self.assertEqual(kpis["average_deal_size"], 1000.0)
        self.assertEqual(kpis["average_cycle_days"], 5.0)
        self.assertEqual(kpis["open"], 95)
        self.assertEqual(kpis["sales_velocity"], 95 * 0.05 * 1000.0 / 5.0)

    def test_regression_counted_once_entered(self):
        lead = self._create(1)
        self._move(lead, self.stage["needs"], day(1))
        self._move(lead, self.stage["solution"], day(2))
        self._move(lead, self.stage["needs"], day(3))
        self._move(lead, self.stage["solution"], day(5))
        funnel = self._funnel(lead)
        self.assertEqual(funnel["needs"]["entered_count"], 1, "first entry only")
        self.assertEqual(funnel["solution"]["regressed_count"], 1)
        self.assertEqual(funnel["solution"]["current_count"], 1)
        self.assertEqual(funnel["needs"]["advanced_count"], 1)
        with freeze_time(day(6)):
            needs = self._funnel(lead)["needs"]
        self.assertEqual(needs["days_in_step"], 1.0 + 2.0, "both stays in needs analysis")

    def test_skipped_step(self):
        lead = self._create(1)
        self._move(lead, self.stage["proposal"], day(1))
        funnel = self._funnel(lead)
        self.assertEqual(
            sorted(funnel), ["after_sales", "identify", "needs", "negotiation", "proposal", "solution"]
        )
        self.assertEqual(funnel["identify"]["advanced_count"], 1)
        self.assertEqual((funnel["needs"]["entered_count"], funnel["solution"]["entered_count"]), (0, 0))
        self.assertEqual(funnel["proposal"]["entered_count"], 1)

    def test_lost_and_reopened(self):
        lost, reopened = self._create(2)
        self._move(lost | reopened, self.stage["needs"], day(1))
        (lost | reopened).with_context(funnel_event_date=day(2)).action_set_lost()
        reopened.with_context(funnel_event_date=day(3)).action_restore()
        self._move(reopened, self.stage["solution"], day(4))
        funnel = self._funnel(lost | reopened)
        self.assertEqual(funnel["needs"]["entered_count"], 2)
        self.assertEqual(funnel["needs"]["lost_count"], 1, "the reopened one is no longer lost")
        self.assertEqual(funnel["needs"]["advanced_count"], 1)
        self.assertEqual(funnel["needs"]["conversion_rate"], 50.0)
        with freeze_time(day(10)):
            needs = self._funnel(lost | reopened)["needs"]
        # lost: day 1 to 2; reopened: day 1 to 2, then day 3 to 4 (lost time not counted)
        self.assertEqual(needs["days_in_step"], (1.0 + 2.0) / 2)

    def test_created_in_a_later_stage(self):
        lead = self._create(1, stage_code="proposal")
        funnel = self._funnel(lead)
        self.assertEqual(funnel["proposal"]["entered_count"], 1)
        self.assertEqual(sum(row["entered_count"] for row in funnel.values()), 1)
        kpis = self.Report.get_funnel_kpis([("lead_id", "=", lead.id)])
        self.assertEqual(kpis["entered"], 1, "its first step is the proposal")

    def test_archived_leads_keep_their_rows(self):
        leads = self._create(3)
        self._move(leads, self.stage["needs"], day(1))
        leads[0].action_archive()
        self.assertEqual(self._funnel(leads)["needs"]["entered_count"], 3)

    def test_merge(self):
        first = self._create(1)
        second = self._create(1, stage_code="solution", when=day(1))
        self._move(second, self.stage["proposal"], day(2))

        def counts(leads):
            return {
                code: (row["entered_count"], row["advanced_count"], row["current_count"], row["won_count"])
                for code, row in self._funnel(leads).items()
            }

        before = {lead: counts(lead) for lead in first | second}
        merged = (first | second).merge_opportunity(auto_unlink=True)
        # the survivor counts as it did; the duplicate no longer counts
        self.assertEqual(counts(first | second), before[merged])

    def test_salesperson_sees_own_rows(self):
        other = new_test_user(self.env, "funnel_report_other", groups="sales_team.group_sale_salesman")
        mine = self._create(2)
        theirs = self._create(3, user_id=other.id)
        domain = [("lead_id", "in", (mine | theirs).ids)]
        as_salesman = {r["step_code"]: r for r in self.Report.with_user(self.salesman).get_funnel(domain)}
        as_manager = {r["step_code"]: r for r in self.Report.with_user(self.manager).get_funnel(domain)}
        self.assertEqual(as_salesman["identify"]["entered_count"], 2)
        self.assertEqual(as_manager["identify"]["entered_count"], 5)

    def test_breakdown_by_salesperson(self):
        other = new_test_user(self.env, "funnel_report_second", groups="sales_team.group_sale_salesman")
        mine = self._create(4)
        theirs = self._create(2, user_id=other.id)
        self._move(mine[:1] | theirs, self.stage["needs"], day(1))
        rows = self.Report.get_funnel([("lead_id", "in", (mine | theirs).ids)], groupby=["user_id"])
        table = {(row["user_id"][1], row["step_code"]): row["conversion_rate"] for row in rows}
        self.assertEqual(table[self.salesman.name, "identify"], 25.0)
        self.assertEqual(table[other.name, "identify"], 100.0)


@tagged("post_install", "-at_install")
class TestCustomerType(FunnelReportCase):
    def test_new_and_existing_customers(self):
        """Existing: the customer had won a deal before the opportunity was
        created; the summary follows when the first win comes later."""
        partner = self.env["res.partner"].create({"name": "Returning customer"})
        before = self._create(1, partner_id=partner.id)
        won = self._create(1, partner_id=partner.id)
        won.action_set_won()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_closed = %s WHERE id = %s", [datetime(2020, 1, 1), won.id]
        )
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s", [datetime(2019, 1, 1), before.id]
        )
        after = self._create(1, partner_id=partner.id)
        self.env["sales.funnel.lead.step"]._refresh((before | after).ids)
        types = {
            row.lead_id: row.customer_type
            for row in self.Report.search(
                [("lead_id", "in", (before | after).ids), ("step_id", "=", self.step["identify"].id)]
            )
        }
        self.assertEqual(types, {before: "new", after: "existing"})
        self.assertEqual(
            self.Report.search(
                [("lead_id", "=", after.id), ("step_id", "=", self.step["identify"].id)]
            ).deal_size,
            "small",
        )

    def test_deal_sizes_between_the_edges(self):
        """Small below the first edge, medium from it to the second, large
        to the third, very large from it."""
        self.company.write({"funnel_size_edge_1": 10000.0, "funnel_size_edge_2": 30000.0,
                            "funnel_size_edge_3": 50000.0})  # fmt: skip
        amounts = {
            9999.99: "small",
            10000.0: "medium",
            29999.0: "medium",
            30000.0: "large",
            50000.0: "very_large",
        }
        leads = {amount: self._create(1, expected_revenue=amount) for amount in amounts}
        sizes = {
            row.lead_id: row.deal_size
            for row in self.Report.search(
                [
                    ("lead_id", "in", [lead.id for lead in leads.values()]),
                    ("step_id", "=", self.step["identify"].id),
                ]
            )
        }
        self.assertEqual({amount: sizes[lead] for amount, lead in leads.items()}, amounts)


@tagged("post_install", "-at_install")
class TestFunnelReportCompanies(FunnelCase):
    def test_totals_converted_to_one_currency(self):
        usd = self.company.currency_id
        eur = self.env.ref("base.EUR") if usd != self.env.ref("base.EUR") else self.env.ref("base.USD")
        eur.active = True
        today = date.today()
        self.env["res.currency.rate"].search([("currency_id", "in", (usd | eur).ids)]).unlink()
        self.env["res.currency.rate"].create(
            [
                {"currency_id": usd.id, "rate": 1.0, "name": today},
                {"currency_id": eur.id, "rate": 2.0, "name": today},
            ]
        )
        abroad = self.env["res.company"].create({"name": "Funnel Europe", "currency_id": eur.id})
        home_lead = self._lead("identify", expected_revenue=1000.0)
        abroad_lead = self.env["crm.lead"].create(
            {"name": "Abroad", "type": "opportunity", "company_id": abroad.id, "expected_revenue": 1000.0,
             "stage_id": self.stage["identify"].id}
        )  # fmt: skip
        rows = self.env["sales.funnel.report"].get_funnel([("lead_id", "in", (home_lead | abroad_lead).ids)])
        identify = next(row for row in rows if row["step_code"] == "identify")
        self.assertEqual(identify["expected_revenue"], 1000.0 + 1000.0 / 2.0)

    def test_company_isolation(self):
        other_company = self.env["res.company"].create({"name": "Funnel Elsewhere"})
        elsewhere = self.env["crm.lead"].create(
            {"name": "Elsewhere", "type": "opportunity", "company_id": other_company.id,
             "stage_id": self.stage["identify"].id}
        )  # fmt: skip
        here = self._lead("identify")
        domain = [("lead_id", "in", (elsewhere | here).ids)]
        visible = self.env["sales.funnel.report"].with_user(self.manager).search(domain)
        self.assertEqual(visible.lead_id, here)
        history = self.env["sales.funnel.history"].with_user(self.manager).search(domain)
        self.assertEqual(history.lead_id, here)


@tagged("post_install", "-at_install")
class TestHistoryBackfill(FunnelCase):
    def test_backfill_matches_what_was_recorded(self):
        """At install the history is rebuilt from crm's own tracking."""
        tracked = self.env(context=dict(self.env.context, tracking_disable=False))
        self.team.use_funnel_gates = False
        Lead = tracked["crm.lead"]
        first = Lead.create({"name": "Tracked 1", "type": "opportunity", "team_id": self.team.id,
                             "stage_id": self.stage["identify"].id})  # fmt: skip
        second = Lead.create({"name": "Tracked 2", "type": "opportunity", "team_id": self.team.id,
                              "stage_id": self.stage["proposal"].id})  # fmt: skip
        # crm writes its tracking at commit, one message per record and
        # transaction, dated to the second: one move per (frozen) hour here
        self.env.cr.precommit.run()
        later = datetime.now() + timedelta(hours=1)
        for hours, (lead, action) in enumerate(
            [(first, "needs"), (first, "proposal"), (first, "solution"), (first, "lost"), (second, "won")]
        ):
            with freeze_time(later + timedelta(hours=hours)):
                if action == "lost":
                    lead.action_set_lost()
                elif action == "won":
                    lead.action_set_won()
                else:
                    lead.stage_id = self.stage[action]
                self.env.cr.precommit.run()
        self.env.flush_all()

        def moves(lead):
            return [
                (row.kind, row.to_stage_id.name)
                for row in lead.funnel_history_ids.sorted(lambda r: (r.date, r.id))
            ]

        recorded = [moves(first), moves(second)]
        self.env.cr.execute("DELETE FROM sales_funnel_history WHERE lead_id IN %s", [(first.id, second.id)])
        self.env["sales.funnel.build"]._start()._build([first.id, second.id])
        self.env.invalidate_all()
        self.assertEqual([moves(first), moves(second)], recorded)
        self.assertEqual(
            recorded[0],
            [("enter", "Team identify"), ("advance", "Team needs"), ("skip", "Team proposal"),
             ("regress", "Team solution"), ("lost", "Team solution")],
        )  # fmt: skip
        funnel = {
            row["step_code"]: row
            for row in self.env["sales.funnel.report"].get_funnel([("lead_id", "in", (first | second).ids)])
        }
        self.assertEqual(funnel["proposal"]["entered_count"], 2)
        self.assertEqual(funnel["solution"]["lost_count"], 1)
        self.assertEqual(funnel["after_sales"]["won_count"], 1)


@tagged("post_install", "-at_install")
class TestRottingSuggestion(FunnelCase):
    def test_ninetieth_percentile_of_the_step(self):
        self.team.use_funnel_gates = False
        Lead = self.env["crm.lead"]
        for days in range(1, 11):  # stays of 1 to 10 days in needs analysis
            lead = Lead.with_context(funnel_event_date=MONDAY).create(
                {"name": f"Stay {days}", "type": "opportunity", "team_id": self.team.id,
                 "stage_id": self.stage["needs"].id}
            )  # fmt: skip
            lead.with_context(funnel_event_date=day(days)).stage_id = self.stage["solution"]
        still = Lead.with_context(funnel_event_date=MONDAY).create(
            {
                "name": "Still there",
                "type": "opportunity",
                "team_id": self.team.id,
                "stage_id": self.stage["needs"].id,
            }
        )
        # days in its stage: whole days since crm's last stage update
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_last_stage_update = now() at time zone 'UTC' - interval '3 days 5 hours'"
            " WHERE id = %s",
            [still.id],
        )
        still.invalidate_recordset()
        self.assertEqual(still.funnel_days_in_stage, 3)
        # ended stays only, across the step's stages: the 9th of 10 values
        stage = self.stage["needs"]
        self.assertEqual(stage.funnel_rotting_suggestion, 9)
        stage.action_funnel_apply_rotting_suggestion()
        self.assertEqual(stage.rotting_threshold_days, 9)
        self.assertEqual(self.stage["after_sales"].funnel_rotting_suggestion, 0, "won stages do not rot")


@tagged("post_install", "-at_install")
class TestReportTotals(FunnelReportCase):
    """Pivot and graph totals: every rate is a ratio of the summed counts at
    every level, and a total over several steps counts each lead once."""

    def setUp(self):
        super().setUp()
        other = new_test_user(self.env, "funnel_totals_other", groups="sales_team.group_sale_salesman")
        # 10 leads of the salesman: 6 reach needs, 3 solution, 2 are won from there; 4 of the other's: 1 won
        mine = self._create(10)
        self._move(mine[:6], self.stage["needs"], day(1))
        self._move(mine[:3], self.stage["solution"], day(2))
        self._move(mine[:2], self.stage["after_sales"], day(3))
        theirs = self._create(4, user_id=other.id)
        self._move(theirs[:1], self.stage["after_sales"], day(1))
        self.domain = [("lead_id", "in", (mine | theirs).ids)]
        self.other = other

    MEASURES = [
        "entered_count:sum",
        "advanced_count:sum",
        "won_count:sum",
        "conversion_rate:avg",
        "won_rate:avg",
    ]

    def _groups(self, groupby):
        return self.Report.formatted_read_group(self.domain, groupby, self.MEASURES)

    def test_grand_total(self):
        [total] = self._groups([])
        # 14 leads entered the funnel, 3 are won: 3 / 14, not an average of the steps' rates
        self.assertEqual((total["entered_count:sum"], total["won_count:sum"]), (14, 3))
        self.assertAlmostEqual(total["won_rate:avg"], 100.0 * 3 / 14)
        # rows: 14 identify + 6 needs + 3 solution + 3 after-sales = 26 entries, 6 + 3 + 2 + 1 = 12 advanced
        self.assertEqual(total["advanced_count:sum"], 12)
        self.assertAlmostEqual(total["conversion_rate:avg"], 100.0 * 12 / 26)

    def test_per_step_and_per_salesperson(self):
        by_step = {group["step_id"][0]: group for group in self._groups(["step_id"])}
        identify = by_step[self.step["identify"].id]
        self.assertEqual((identify["entered_count:sum"], identify["advanced_count:sum"]), (14, 7))
        self.assertAlmostEqual(identify["conversion_rate:avg"], 100.0 * 7 / 14)
        self.assertAlmostEqual(identify["won_rate:avg"], 100.0 * 3 / 14)
        solution = by_step[self.step["solution"].id]
        self.assertAlmostEqual(solution["won_rate:avg"], 100.0 * 2 / 3)
        by_user = {group["user_id"][0]: group for group in self._groups(["user_id"])}
        mine = by_user[self.salesman.id]
        self.assertEqual((mine["entered_count:sum"], mine["won_count:sum"]), (10, 2))
        self.assertAlmostEqual(mine["won_rate:avg"], 20.0)
        theirs = by_user[self.other.id]
        self.assertEqual((theirs["entered_count:sum"], theirs["won_count:sum"]), (4, 1))
        self.assertAlmostEqual(theirs["won_rate:avg"], 25.0)
        # and a salesperson's steps read as the step's own figures
        [mine_in_needs] = [
            group
            for group in self._groups(["user_id", "step_id"])
            if group["user_id"][0] == self.salesman.id and group["step_id"][0] == self.step["needs"].id
        ]
        self.assertEqual(mine_in_needs["entered_count:sum"], 6)
        self.assertAlmostEqual(mine_in_needs["conversion_rate:avg"], 50.0)

    def test_pivot_grouping_sets(self):
        """The pivot reads its rows and its Total in one query of grouping
        sets: the same figures."""
        total, by_step = self.Report.formatted_read_grouping_sets(
            self.domain, [[], ["step_id"]], self.MEASURES
        )
        [total] = total
        self.assertEqual((total["entered_count:sum"], total["won_count:sum"]), (14, 3))
        self.assertAlmostEqual(total["won_rate:avg"], 100.0 * 3 / 14)
        self.assertAlmostEqual(total["conversion_rate:avg"], 100.0 * 12 / 26)
        needs = next(group for group in by_step if group["step_id"][0] == self.step["needs"].id)
        self.assertEqual((needs["entered_count:sum"], needs["advanced_count:sum"]), (6, 3))

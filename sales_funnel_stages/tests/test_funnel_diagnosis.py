from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestFunnelDiagnosis(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False
        cls.company.write(
            {
                "funnel_health_months": 6,
                "funnel_health_lumpy_share": 50.0,
                "funnel_health_min_open": 15,
                "funnel_health_busy_ratio": 5.0,
                "funnel_health_activity_days": 30,
                "funnel_health_small_share": 10.0,
                "funnel_health_idle_days": 30,
                "funnel_size_edge_1": 10000.0,
            }
        )
        cls.Diagnosis = cls.env["sales.funnel.diagnosis"]

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now().replace(microsecond=0)

    # ------------------------------------------------------------ helpers

    def _member(self, login):
        user = new_test_user(
            self.env, login, groups="sales_team.group_sale_salesman", company_id=self.company.id
        )
        self.team.member_ids = [Command.link(user.id)]
        return user

    def _leads(self, count, user, stage_code="identify", **values):
        return self.env["crm.lead"].create(
            [
                {"name": f"Diagnosis {user.login} {i}", "type": "opportunity", "team_id": self.team.id,
                 "user_id": user.id, "stage_id": self.stage[stage_code].id, **values}
                for i in range(count)
            ]
        )  # fmt: skip

    def _touch(self, leads, when):
        """The leads were created and last changed stage at `when`."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id IN %s",
            [when, when, tuple(leads.ids)],
        )
        leads.invalidate_recordset(["create_date", "date_last_stage_update"])

    def _won(self, user, amount, when):
        lead = self._leads(1, user, "negotiation", expected_revenue=amount)
        lead.action_set_won()
        self.env.flush_all()
        self.env.cr.execute("UPDATE crm_lead SET date_closed = %s WHERE id = %s", [when, lead.id])
        lead.invalidate_recordset(["date_closed"])
        return lead

    def _month(self, back):
        """The 10th of the month `back` months before the current one."""
        return self.now.replace(day=10, hour=12, minute=0, second=0) - relativedelta(months=back)

    def _diagnose(self, user=None, **kwargs):
        Diagnosis = self.Diagnosis.with_user(user) if user else self.Diagnosis
        # as a new request would: no figure kept from an earlier read of the view
        self.env.invalidate_all()
        with freeze_time(self.now):
            rows = Diagnosis._diagnose(teams=self.team, **kwargs)
        return {(row["level"], row["user_id"]): row for row in rows}

    @staticmethod
    def _codes(row):
        return {warning["code"] for warning in row["warnings"]}

    def _activities(self, leads, user, count):
        todo = self.env.ref("mail.mail_activity_data_todo")
        return self.env["mail.activity"].create(
            [
                {"res_model_id": self.env["ir.model"]._get_id("crm.lead"), "res_id": leads[i % len(leads)].id,
                 "activity_type_id": todo.id, "user_id": user.id, "summary": f"Call {i}"}
                for i in range(count)
            ]
        )  # fmt: skip

    # ------------------------------------------------------------ quota basis

    def test_weighted_pipeline_quota_basis(self):
        """Funnel method, section 2: 1,000,000 in the 25 % band counts 250,000;
        the quota basis sums the weighted values of the open opportunities."""
        other = self._member("diag_quota")
        self._lead("needs", expected_revenue=1000000.0)
        self._lead("proposal", expected_revenue=40000.0)
        self._lead("solution", expected_revenue=30000.0, user_id=other.id)
        self._lead("identify", expected_revenue=50000.0, user_id=False)
        self._lead("proposal", expected_revenue=999.0).action_set_lost()
        self._lead("negotiation", expected_revenue=777.0).action_set_won()
        weight = {code: step.weight / 100 for code, step in self.step.items()}
        mine = 1000000.0 * weight["needs"] + 40000.0 * weight["proposal"]
        theirs = 30000.0 * weight["solution"]
        unassigned = 50000.0 * weight["identify"]
        self.assertEqual(1000000.0 * weight["needs"], 250000.0)
        rows = self._diagnose()
        self.assertEqual(rows["salesperson", self.salesman.id]["weighted_revenue"], mine)
        self.assertEqual(rows["salesperson", other.id]["weighted_revenue"], theirs)
        self.assertEqual(rows["team", False]["weighted_revenue"], mine + theirs + unassigned)
        self.assertEqual(rows["team", False]["open_count"], 4)
        self.assertEqual(self.team.funnel_weighted_pipeline, mine + theirs + unassigned)
        self.assertEqual(self.team.funnel_open_count, 4)

    def test_amounts_of_other_currencies_converted(self):
        """A team without a company holds opportunities of a company in
        euros: their amounts count at the rate, not raw (1,000 EUR at 2 EUR
        per unit of the company's currency counts 500)."""
        euro = self.env.ref("base.EUR")
        euro.active = True
        if euro == self.company.currency_id:
            self.skipTest("the company counts in euros")
        self.env["res.currency.rate"].create(
            {"currency_id": euro.id, "rate": 2.0, "name": fields.Date.today(), "company_id": self.company.id}
        )
        euro_company = self.env["res.company"].create({"name": "Euro Funnel Co", "currency_id": euro.id})
        self.team.company_id = False
        self._lead("needs", expected_revenue=1000.0)
        self._lead("needs", expected_revenue=1000.0, company_id=euro_company.id, user_id=False)
        weight = self.step["needs"].weight / 100
        expected = 1000.0 * weight + 1000.0 * weight / 2.0
        both = self.env(
            context=dict(self.env.context, allowed_company_ids=[self.company.id, euro_company.id])
        )
        with freeze_time(self.now):
            rows = both["sales.funnel.diagnosis"]._diagnose(teams=self.team)
        team_row = next(row for row in rows if row["level"] == "team")
        self.assertAlmostEqual(team_row["weighted_revenue"], expected)
        self.assertAlmostEqual(team_row["expected_revenue"], 1500.0)
        team = self.team.with_env(both)
        team.invalidate_recordset()
        self.assertAlmostEqual(team.funnel_weighted_pipeline, expected)
        self.assertEqual(team.funnel_open_count, 2)

    # ------------------------------------------------------------ diagnoses

    def test_few_active_opportunities(self):
        """Fewer than 15 open opportunities; a team: fewer than 15 per member."""
        users = {name: self._member(f"diag_open_{name}") for name in ("at", "below", "above")}
        for name, count in (("at", 15), ("below", 14), ("above", 16)):
            self._leads(count, users[name])
        self._leads(1, users["at"]).action_set_lost()
        self._leads(1, users["at"], "negotiation").action_set_won()
        rows = self._diagnose()
        row = {name: rows["salesperson", user.id] for name, user in users.items()}
        self.assertEqual(row["at"]["open_count"], 15, "lost and won ones are not active")
        self.assertNotIn("few_open", self._codes(row["at"]))
        self.assertIn("few_open", self._codes(row["below"]))
        self.assertNotIn("few_open", self._codes(row["above"]))
        self.assertIn(
            "Active opportunities: 14, below the minimum of 15.",
            [w["message"] for w in row["below"]["warnings"]],
        )
        self.assertIn("few_open", self._codes(rows["salesperson", self.salesman.id]), "none at all")
        team = rows["team", False]
        members = len(self.team.member_ids)
        self.assertEqual(members, 4)
        self.assertEqual(team["open_count"], 15 + 14 + 16)
        self.assertIn("few_open", self._codes(team), "45 < 15 x 4 members")
        self.assertIn(f"below the minimum of {15 * members}", self.team.funnel_warnings)

    def test_thresholds_are_settings(self):
        self._leads(2, self.salesman)
        self.assertIn("few_open", self._codes(self._diagnose()["salesperson", self.salesman.id]))
        self.env["res.config.settings"].create({"funnel_health_min_open": 2}).execute()
        self.assertEqual(self.company.funnel_health_min_open, 2)
        self.assertNotIn("few_open", self._codes(self._diagnose()["salesperson", self.salesman.id]))
        with self.assertRaises(ValidationError) as caught:
            self.company.funnel_health_idle_days = -1
        self.assertIn("cannot be negative", str(caught.exception))

    def test_lumpy_closing(self):
        """Most of the amount won in the last six months in one month: the
        best month's share above 50 %."""
        users = {name: self._member(f"diag_lumpy_{name}") for name in ("at", "above", "below", "window")}
        for name, amounts in {
            "at": [(5000.0, 1), (5000.0, 2)],  # 50 %
            "above": [(5010.0, 1), (4990.0, 2)],  # 50.1 %
            "below": [(4990.0, 1), (4510.0, 2), (500.0, 3)],  # 49.9 %
            "window": [(5000.0, 1), (5000.0, 2), (90000.0, 8)],  # 8 months ago: out of the window
        }.items():
            for amount, back in amounts:
                self._won(users[name], amount, self._month(back))
        rows = self._diagnose()
        row = {name: rows["salesperson", user.id] for name, user in users.items()}
        self.assertAlmostEqual(row["at"]["lumpy_share"], 50.0)
        self.assertNotIn("lumpy", self._codes(row["at"]))
        self.assertAlmostEqual(row["above"]["lumpy_share"], 100 * 5010 / 10000)
        self.assertIn("lumpy", self._codes(row["above"]))
        self.assertAlmostEqual(row["below"]["lumpy_share"], 100 * 4990 / 10000)
        self.assertNotIn("lumpy", self._codes(row["below"]))
        self.assertEqual(row["window"]["won_amount"], 10000.0)
        self.assertNotIn("lumpy", self._codes(row["window"]))
        self.assertEqual(row["above"]["best_month"], self._month(1).date().replace(day=1))
        # the team: 5000 + 5010 + 4990 + 5000 in the first month of 40000 won
        team = rows["team", False]
        self.assertAlmostEqual(team["lumpy_share"], 100 * (5000 + 5010 + 4990 + 5000) / 40000)
        self.assertNotIn("lumpy", self._codes(team))

    def test_busy_but_empty(self):
        """More than 5 activities per open opportunity, with few opportunities."""
        users = {name: self._member(f"diag_busy_{name}") for name in ("at", "below", "above", "many")}
        leads = {name: self._leads(2, user) for name, user in users.items() if name != "many"}
        leads["many"] = self._leads(15, users["many"])
        self._activities(leads["at"], users["at"], 10)  # 10 = 5 x 2
        self._activities(leads["below"], users["below"], 9)
        done = self._activities(leads["above"], users["above"], 11)
        done[0].with_user(users["above"]).action_feedback(
            feedback="Called"
        )  # done in the window still counts
        self._activities(leads["many"], users["many"], 80)  # 80 > 5 x 15, but 15 opportunities are enough
        rows = self._diagnose()
        row = {name: rows["salesperson", user.id] for name, user in users.items()}
        self.assertEqual(row["above"]["activity_count"], 11)
        self.assertEqual((row["at"]["activity_count"], row["below"]["activity_count"]), (10, 9))
        self.assertNotIn("busy", self._codes(row["at"]))
        self.assertNotIn("busy", self._codes(row["below"]))
        self.assertIn("busy", self._codes(row["above"]))
        self.assertNotIn("busy", self._codes(row["many"]))
        self.assertEqual(row["above"]["activities_per_opportunity"], 11 / 2)

    def test_no_small_deals(self):
        """Fewer than 10 % of the open opportunities with an amount below 10,000."""
        users = {name: self._member(f"diag_small_{name}") for name in ("at", "below", "above")}
        for name, large in (("at", 9), ("below", 10), ("above", 8)):
            self._leads(1, users[name], expected_revenue=9999.0)
            self._leads(large, users[name], expected_revenue=10000.0)
        self._leads(3, users["above"], expected_revenue=0.0)  # no amount: not in the mix
        rows = self._diagnose()
        row = {name: rows["salesperson", user.id] for name, user in users.items()}
        self.assertEqual(row["at"]["small_share"], 10.0)
        self.assertNotIn("no_small", self._codes(row["at"]))
        self.assertAlmostEqual(row["below"]["small_share"], 100 / 11)
        self.assertIn("no_small", self._codes(row["below"]))
        self.assertEqual(row["above"]["sized_count"], 9)
        self.assertNotIn("no_small", self._codes(row["above"]))
        self.assertNotIn("no_small", self._codes(rows["salesperson", self.salesman.id]), "nothing to mix")

    def test_stalled_by_step(self):
        """Past the rotting threshold of the stage, as crm counts rotting."""
        self.stage["proposal"].rotting_threshold_days = 10
        self.stage["needs"].rotting_threshold_days = 5
        threshold = timedelta(days=10)
        at, above, below = self._leads(3, self.salesman, "proposal")
        self._touch(at, self.now - threshold)
        self._touch(above, self.now - threshold - timedelta(minutes=1))
        self._touch(below, self.now - threshold + timedelta(minutes=1))
        needs = self._leads(1, self.salesman, "needs")
        self._touch(needs, self.now - timedelta(days=6))
        no_threshold = self._leads(1, self.salesman, "solution")
        self._touch(no_threshold, self.now - timedelta(days=400))
        won = self._won(self.salesman, 1000.0, self.now)
        self._touch(won, self.now - timedelta(days=100))
        rows = self._diagnose()
        row = rows["salesperson", self.salesman.id]
        self.assertEqual(row["stalled_count"], 2)
        self.assertEqual(
            [(line["step_code"], line["count"]) for line in row["stalled_by_step"]],
            [("needs", 1), ("proposal", 1)],
        )
        self.assertIn("stalled", self._codes(row))
        message = next(w["message"] for w in row["warnings"] if w["code"] == "stalled")
        self.assertIn("Needs analysis: 1, Proposal & quotation: 1", message)
        self.assertEqual(rows["team", False]["stalled_by_step"], row["stalled_by_step"])
        diagnosis = self.Diagnosis.browse(row["id"])
        with freeze_time(self.now):
            action = diagnosis.action_open_stalled()
        self.assertEqual(set(action["domain"][0][2]), set((above | needs).ids))

    def test_disqualify_candidates(self):
        """MAN m+a+n, or no activity for more than 30 days."""
        idle = timedelta(days=30)
        at, above, below, planned, noted = self._leads(5, self.salesman)
        self._touch(at, self.now - idle)
        self._touch(above, self.now - idle - timedelta(minutes=1))
        self._touch(below, self.now - idle + timedelta(minutes=1))
        self._touch(planned | noted, self.now - timedelta(days=90))
        self._activities(planned, self.salesman, 1)
        noted.message_post(body="Still thinking about it", message_type="comment")
        man = self._qualify(self._lead("needs"), money="no", authority="no", need="no")
        rows = self._diagnose()
        row = rows["salesperson", self.salesman.id]
        self.assertEqual((row["idle_count"], row["man_disqualify_count"], row["disqualify_count"]), (1, 1, 2))
        self.assertIn("disqualify", self._codes(row))
        with freeze_time(self.now):
            action = self.Diagnosis.browse(row["id"]).action_open_disqualify()
        self.assertEqual(set(action["domain"][0][2]), set((above | man).ids))

    def test_won_without_funnel_history(self):
        """Won with no stage change before the win, or created won: Sales
        administrators only."""
        start = self.now - timedelta(days=10)
        Lead = self.env["crm.lead"]
        values = {"type": "opportunity", "team_id": self.team.id, "user_id": self.salesman.id}
        direct = Lead.with_context(funnel_event_date=start).create(
            dict(values, name="Direct", stage_id=self.stage["negotiation"].id)
        )
        direct.with_context(funnel_event_date=start + timedelta(days=1)).action_set_won()
        moved = Lead.with_context(funnel_event_date=start).create(
            dict(values, name="Moved", stage_id=self.stage["identify"].id)
        )
        moved.with_context(funnel_event_date=start + timedelta(days=1)).write(
            {"stage_id": self.stage["needs"].id}
        )
        moved.with_context(funnel_event_date=start + timedelta(days=2)).action_set_won()
        born_won = Lead.with_context(funnel_event_date=start).create(
            dict(values, name="Born won", stage_id=self.stage["after_sales"].id)
        )
        self.assertEqual(born_won.won_status, "won")
        old = self._won(self.salesman, 1000.0, self._month(8))

        rows = self._diagnose(user=self.manager)
        row = rows["salesperson", self.salesman.id]
        self.assertEqual(row["won_no_history_count"], 2)
        self.assertIn("won_no_history", self._codes(row))
        with freeze_time(self.now):
            action = (
                self.Diagnosis.with_user(self.manager).browse(row["id"]).action_open_won_without_history()
            )
            everywhere = self.Diagnosis.with_user(self.manager).action_open_all_won_without_history()
        self.assertEqual(set(action["domain"][0][2]), set((direct | born_won).ids))
        self.assertTrue(set((direct | born_won).ids) <= set(everywhere["domain"][0][2]))
        self.assertNotIn(moved.id, everywhere["domain"][0][2])
        self.assertNotIn(old.id, everywhere["domain"][0][2], "won before the closing window")

        mine = self._diagnose(user=self.salesman)["salesperson", self.salesman.id]
        self.assertNotIn("won_no_history_count", mine)
        self.assertNotIn("won_no_history", self._codes(mine))
        as_salesman = self.Diagnosis.with_user(self.salesman).browse(row["id"])
        with self.assertRaises(AccessError):
            as_salesman.action_open_won_without_history()
        with self.assertRaises(AccessError):
            as_salesman.read(["won_no_history_count"])

    def test_months_where_the_reader_is(self):
        """A deal closed 3 hours before the month began in UTC was closed in
        the new month in Shanghai (UTC+8), in the old one in Los Angeles."""
        seller = self._member("diag_tz")
        month_start = self.now.replace(day=1, hour=0, minute=0, second=0)
        self._won(seller, 1000.0, month_start - timedelta(hours=3))
        for tz, month in (
            ("Asia/Shanghai", month_start),
            ("America/Los_Angeles", month_start - relativedelta(months=1)),
        ):
            with self.subTest(tz=tz), freeze_time(self.now):
                self.env.invalidate_all()
                rows = self.Diagnosis.with_context(tz=tz)._diagnose(teams=self.team)
                row = next(row for row in rows if row["user_id"] == seller.id)
                self.assertEqual(row["best_month"], month.date())

    def test_team_leader_without_opportunities(self):
        """A leader who sells nothing is not told they have too few
        opportunities; a salesperson with none is."""
        leader = self._member("diag_leader")
        self.team.user_id = leader
        rows = self._diagnose()
        self.assertNotIn("few_open", self._codes(rows["salesperson", leader.id]))
        self.assertIn("few_open", self._codes(rows["salesperson", self.salesman.id]))
        self._leads(1, leader)
        self.assertIn("few_open", self._codes(self._diagnose()["salesperson", leader.id]), "selling: counted")

    def test_badge_and_summary_match_the_lines(self):
        """The list's badge counts the lines of the diagnosis the reader
        sees, and its summary names them: deals won off the funnel for a
        Sales administrator only."""
        self._leads(2, self.salesman)
        self._won(self.salesman, 1000.0, self.now)  # no funnel history
        for user, hidden in ((self.manager, False), (self.salesman, True)):
            with self.subTest(user=user.login), freeze_time(self.now):
                self.Diagnosis.invalidate_model()
                row = self.Diagnosis.with_user(user).search(
                    [("level", "=", "salesperson"), ("user_id", "=", self.salesman.id)]
                )
                lines = row.warning_text.split("\n")
                self.assertEqual(row.warning_shown_count, len(lines))
                self.assertEqual(len(row.warning_summary.split(" · ")), len(lines))
                self.assertIn("Few Opportunities", row.warning_summary)
                self.assertEqual("Won Off the Funnel" not in row.warning_summary, hidden)
                self.assertEqual(
                    "Won in the last 6 months without funnel history (no stage change before the win): 1."
                    not in lines,
                    hidden,
                )

    def test_won_with_unmet_gates(self):
        """Winning is never refused by a gate; the health shows it."""
        self.team.use_funnel_gates = True
        unmet = self._leads(1, self.salesman, "identify")
        unmet.action_set_won()  # Need and Authority unknown: straight to won
        met = self._leads(1, self.salesman, "identify", man_need="yes", man_authority="yes")
        met.action_set_won()
        self.assertEqual((unmet | met).mapped("won_status"), ["won", "won"])
        row = self._diagnose(user=self.salesman)["salesperson", self.salesman.id]
        self.assertEqual(row["won_unmet_gates_count"], 1)
        self.assertIn("won_unmet_gates", self._codes(row))
        with freeze_time(self.now):
            action = self.Diagnosis.with_user(self.salesman).browse(row["id"]).action_open_won_unmet_gates()
        self.assertEqual(action["domain"][0][2], unmet.ids)
        # counted in the badge like every warning shown to the reader
        self.assertEqual(row["warning_count"], len(row["warnings"]))

    def test_weekly_mails_carry_the_warnings(self):
        """The weekly report: the leader's mail lists the team's warnings,
        deals won off the funnel only for a Sales administrator."""
        leader = new_test_user(
            self.env, "diag_weekly_leader", groups="sales_team.group_sale_salesman_all_leads"
        )
        self.team.user_id = leader
        self._leads(2, self.salesman)
        self._won(self.salesman, 1000.0, self.now)  # created in negotiation and won: no funnel history
        Weekly = self.env["sales.funnel.weekly.report"]
        before = self.env["mail.mail"].search([])
        with freeze_time(self.now):
            Weekly._send_workbook(leader, self.team)
            Weekly._send_workbook(self.manager, self.team)
            export = Weekly._export_for(self.salesman, {"company_ids": self.salesman.company_ids})
            own = Weekly._diagnosis(export, self.salesman, users=self.salesman)
        bodies = {mail.recipient_ids: mail.body_html for mail in self.env["mail.mail"].search([]) - before}
        for reader in (leader, self.manager):
            with self.subTest(reader=reader.login):
                self.assertIn("Funnel health", bodies[reader.partner_id])
                self.assertIn("Active opportunities: 2, below the minimum of 15.", bodies[reader.partner_id])
        self.assertNotIn("without funnel history", bodies[leader.partner_id])
        self.assertIn(
            "Won in the last 6 months without funnel history (no stage change before the win): 1.",
            bodies[self.manager.partner_id],
        )
        self.assertEqual([(row["level"], row["user_id"]) for row in own], [("salesperson", self.salesman.id)])
        self.assertNotIn("won_no_history", self._codes(own[0]))

    # ------------------------------------------------------------ access

    def test_salespeople_see_their_own_diagnosis(self):
        other = self._member("diag_access_other")
        all_leads = new_test_user(
            self.env,
            "diag_access_all",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=self.company.id,
        )
        self._leads(2, self.salesman)
        self._leads(3, other)
        domain = [("team_id", "=", self.team.id)]
        with freeze_time(self.now):
            mine = self.Diagnosis.with_user(self.salesman).search(domain)
            everyone = self.Diagnosis.with_user(self.manager).search(domain)
            for_all_leads = self.Diagnosis.with_user(all_leads).search(domain)
        self.assertEqual([(row.level, row.user_id) for row in mine], [("salesperson", self.salesman)])
        expected = {("team", self.env["res.users"]), ("salesperson", self.salesman), ("salesperson", other)}
        self.assertEqual({(row.level, row.user_id) for row in everyone}, expected)
        self.assertEqual({(row.level, row.user_id) for row in for_all_leads}, expected)

        self.assertEqual(set(self._diagnose(user=self.salesman)), {("salesperson", self.salesman.id)})
        self.assertEqual(
            set(self._diagnose(user=self.manager)),
            {("team", False), ("salesperson", self.salesman.id), ("salesperson", other.id)},
        )
        theirs = everyone.filtered(lambda row: row.user_id == other).with_user(self.salesman)
        with self.assertRaises(AccessError):
            theirs.read(["open_count"])
        with self.assertRaises(AccessError):
            theirs.action_open_opportunities()
        team_row = everyone.filtered(lambda row: row.level == "team").with_user(self.salesman)
        with self.assertRaises(AccessError):
            team_row.read(["weighted_revenue"])
        as_salesman = self.team.with_user(self.salesman)
        self.assertEqual(as_salesman.funnel_diagnosis_ids.user_id, self.salesman)
        self.assertFalse(as_salesman.funnel_warnings, "the team's own warnings are for managers")
        with freeze_time(self.now):
            action = (
                everyone.filtered(lambda row: row.user_id == other)
                .with_user(self.manager)
                .action_open_opportunities()
            )
        self.assertEqual(len(action["domain"][0][2]), 3)

    def test_other_companies_not_counted(self):
        """Only the opportunities of the companies the user works in count."""
        elsewhere = self.env["res.company"].create({"name": "Diagnosis Elsewhere"})
        team_elsewhere = self.env["crm.team"].create({"name": "Team Elsewhere", "company_id": elsewhere.id})
        self.env["crm.lead"].create(
            {"name": "Elsewhere", "type": "opportunity", "team_id": team_elsewhere.id, "company_id": elsewhere.id,
             "expected_revenue": 1000.0}
        )  # fmt: skip
        domain = [("team_id", "=", team_elsewhere.id)]
        with freeze_time(self.now):
            here = self.Diagnosis.with_context(allowed_company_ids=self.company.ids).search(domain)
            both = self.Diagnosis.with_context(allowed_company_ids=(self.company | elsewhere).ids).search(
                domain
            )
        self.assertFalse(here)
        self.assertEqual(both.filtered(lambda row: row.level == "team").open_count, 1)

    def test_team_rows_read_their_team_only(self):
        """A team's diagnosis (its form, its mail: `funnel_team_ids` in the
        context) reads that team's opportunities, not the whole company's:
        the same rows and figures as the diagnosis of every team, and no
        other team's rows."""
        other_team = self.env["crm.team"].create({"name": "Other diagnosis team"})
        self._lead("needs", expected_revenue=1000.0)
        self._lead("proposal", expected_revenue=2000.0, team_id=other_team.id)
        figures = ["team_id", "user_id", "level", "open_count", "weighted_revenue", "warning_count"]
        with freeze_time(self.now):
            everything = self.Diagnosis.search_read([], figures)
            scoped = self.Diagnosis.with_context(funnel_team_ids=self.team.ids).search_read([], figures)
            self.team.invalidate_recordset()
            on_form = self.team.funnel_diagnosis_ids.read(figures)
        self.assertLessEqual(
            {self.team.id, other_team.id}, {row["team_id"][0] for row in everything if row["team_id"]}
        )
        mine = [row for row in everything if row["team_id"] and row["team_id"][0] == self.team.id]
        team_row = next(row for row in scoped if row["level"] == "team")
        self.assertEqual((team_row["open_count"], team_row["weighted_revenue"]), (1, 1000.0 * 25 / 100))
        self.assertEqual(scoped, mine)
        self.assertEqual(sorted(on_form, key=lambda row: row["id"]), sorted(mine, key=lambda row: row["id"]))
        # the scope is the context's, whatever rows are read
        other_row = next(
            row["id"] for row in everything if row["team_id"] and row["team_id"][0] == other_team.id
        )
        with freeze_time(self.now):
            self.assertFalse(
                self.Diagnosis.with_context(funnel_team_ids=self.team.ids).browse(other_row).exists()
            )
            self.assertTrue(self.Diagnosis.browse(other_row).exists())

    def test_read_without_jit(self):
        """Searching, grouping or reading the SQL views switches JIT
        compilation off for the transaction (seconds on large databases)."""
        Report = self.env["sales.funnel.report"]
        row = self.Diagnosis.search([], limit=1)
        self.assertTrue(row)
        reads = {
            "search": lambda: self.Diagnosis.search([]),
            "read_group": lambda: Report.formatted_read_group([], ["step_id"], ["__count"]),
            "funnel": lambda: Report.get_funnel([]),
            # rows known already: only their fields are fetched
            "read": lambda: row.invalidate_recordset() or row.read(["open_count"]),
        }
        for name, read in reads.items():
            with self.subTest(name):
                self.env.cr.execute("SET LOCAL jit = on")
                read()
                self.env.cr.execute("SHOW jit")
                self.assertEqual(self.env.cr.fetchone()[0], "off")

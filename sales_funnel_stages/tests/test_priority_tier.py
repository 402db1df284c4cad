from datetime import date, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestPriorityTier(FunnelCase):
    def _tier(self, revenue, days=None, company=None):
        deadline = (
            fields.Date.context_today(self.env["crm.lead"]) + timedelta(days=days)
            if days is not None
            else False
        )
        values = {"expected_revenue": revenue, "date_deadline": deadline}
        if company:
            values.update(company_id=company.id, team_id=False, user_id=False)
        return self._lead("needs", **values).priority_tier

    def test_quadrants(self):
        # Funnel method, section 5, with big >= 30,000 and short <= 90 days.
        self.assertEqual(self._tier(50000, 10), "a")  # big, short
        self.assertEqual(self._tier(5000, 10), "b")  # small, short
        self.assertEqual(self._tier(50000, 200), "c")  # big, long
        self.assertEqual(self._tier(5000, 200), "d")  # small, long

    def test_boundaries(self):
        self.assertEqual(self._tier(30000, 90), "a", "at the amount threshold is big, at N days is short")
        self.assertEqual(self._tier(29999.99, 90), "b")
        self.assertEqual(self._tier(30000, 91), "c", "one day past N is long")
        self.assertEqual(self._tier(30000), "c", "no expected closing date is long")
        self.assertEqual(self._tier(30000, -5), "a", "an overdue closing date is short")

    def test_actions(self):
        lead = self._lead("needs", expected_revenue=50000, date_deadline=date.today() + timedelta(days=3))
        self.assertEqual(lead.priority_tier_action, "All-out: run the full sales process.")
        lead.expected_revenue = 10
        self.assertEqual(lead.priority_tier_action, "Limit the time invested; maintain the relationship.")

    def test_override_survives_recomputation(self):
        lead = self._lead("needs", expected_revenue=5000)
        self.assertEqual(lead.priority_tier, "d")
        lead.priority_tier_override = "a"
        lead.expected_revenue = 6000
        self.env["crm.lead"]._cron_refresh_priority_tiers()
        self.company.funnel_tier_big_amount = 1000.0
        self.assertEqual(lead.priority_tier, "a")
        lead.priority_tier_override = False
        self.assertEqual(lead.priority_tier, "c", "cleared: computed again (6,000 >= 1,000, no date)")

    def test_company_thresholds(self):
        other = self.env["res.company"].create(
            {"name": "Small Deals Ltd", "funnel_tier_big_amount": 1000.0, "funnel_tier_short_days": 10}
        )
        self.assertEqual(self._tier(5000, 30), "b")
        self.assertEqual(self._tier(5000, 30, company=other), "c")
        # changing a threshold re-tiers the company's existing opportunities
        lead = self._lead("needs", expected_revenue=5000)
        self.assertEqual(lead.priority_tier, "d")
        self.env["res.config.settings"].create({"funnel_tier_big_amount": 4000.0}).execute()
        self.assertEqual(lead.priority_tier, "c")

    def test_moved_to_another_company(self):
        """A lead moved to a company with other thresholds takes its tier
        there (it kept the old one: D instead of C)."""
        other = self.env["res.company"].create({"name": "Low Bar Ltd", "funnel_tier_big_amount": 1000.0})
        lead = self._lead("needs", expected_revenue=5000)
        self.assertEqual(lead.priority_tier, "d", "5,000 < 30,000, no date: small and long")
        lead.write({"company_id": other.id, "team_id": False, "user_id": False})
        self.assertEqual(lead.priority_tier, "c", "5,000 >= 1,000: big and long")

    def test_without_company_whoever_computes(self):
        """A lead without a company is tiered by the main company's
        thresholds, in the form and in SQL, whatever the user's company."""
        main = self.env["crm.lead"]._funnel_tier_company()
        other = self.env["res.company"].create({"name": "Other Bar Ltd", "funnel_tier_big_amount": 1000.0})
        self.assertNotEqual(main, other)
        main.funnel_tier_big_amount = 30000.0
        Lead = self.env["crm.lead"].with_company(other)
        lead = Lead.create({"name": "Nobody's", "type": "opportunity", "expected_revenue": 5000.0,
                            "company_id": False, "team_id": False, "user_id": False})  # fmt: skip
        self.assertFalse(lead.company_id)
        self.assertEqual(lead.priority_tier, "d", "the main company's 30,000, not the user's 1,000")
        Lead._funnel_refresh_values()
        lead.invalidate_recordset()
        self.assertEqual(lead.priority_tier, "d", "the same in SQL")

    def test_daily_cron_moves_long_to_short(self):
        lead = self._lead("needs", expected_revenue=50000, date_deadline=date.today() + timedelta(days=100))
        self.assertEqual(lead.priority_tier, "c")
        with freeze_time(date.today() + timedelta(days=10)):
            self.env["crm.lead"]._cron_refresh_priority_tiers()
        self.assertEqual(lead.priority_tier, "a")
        self.assertEqual(lead.partner_id.funnel_best_tier, False)

    def test_partner_best_tier(self):
        partner = self.env["res.partner"].create({"name": "Tiered customer"})
        soon = date.today() + timedelta(days=5)
        small = self._lead("needs", partner_id=partner.id, expected_revenue=100, date_deadline=soon)  # B
        big = self._lead("needs", partner_id=partner.id, expected_revenue=90000)  # C
        self.assertEqual(partner.funnel_best_tier, "b")
        big.date_deadline = soon
        self.assertEqual(partner.funnel_best_tier, "a")
        big.action_set_lost()
        self.assertEqual(partner.funnel_best_tier, "b")
        small.action_set_lost()
        self.assertFalse(partner.funnel_best_tier, "no open opportunity left")

    def test_partner_best_tier_shows_what_the_reader_may_see(self):
        """An own-documents salesperson does not learn the tier of another's
        opportunity through the customer, nor a user of another company."""
        partner = self.env["res.partner"].create({"name": "Shared customer"})
        soon = date.today() + timedelta(days=5)
        self._lead(
            "needs", partner_id=partner.id, expected_revenue=90000, date_deadline=soon
        )  # A, the salesman's
        other = new_test_user(self.env, "tier_other_salesman", groups="sales_team.group_sale_salesman")
        self.assertEqual(partner.funnel_best_tier, "a")
        self.assertFalse(partner.with_user(other).funnel_best_tier)
        Partner = self.env["res.partner"].with_user(other)
        self.assertFalse(Partner.search([("id", "=", partner.id), ("funnel_best_tier", "=", "a")]))
        self.assertTrue(
            self.env["res.partner"].search([("id", "=", partner.id), ("funnel_best_tier", "=", "a")])
        )
        company_b = self.env["res.company"].create({"name": "Tier B"})
        outsider = new_test_user(
            self.env, "tier_outsider", groups="sales_team.group_sale_salesman_all_leads", company_id=company_b.id,
            company_ids=company_b.ids,
        )  # fmt: skip
        self.assertFalse(partner.with_user(outsider).funnel_best_tier)

    def test_filter_and_group_by(self):
        leads = self._lead("needs", expected_revenue=5) | self._lead("needs", expected_revenue=50000)
        groups = dict(
            self.env["crm.lead"]._read_group([("id", "in", leads.ids)], ["priority_tier"], ["__count"])
        )
        self.assertEqual(groups, {"c": 1, "d": 1})

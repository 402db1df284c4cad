from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestFunnelAccess(FunnelCase):
    def test_salesman_cannot_change_weights_gates_or_thresholds(self):
        as_salesman = self.env(user=self.salesman)
        attempts = [
            (as_salesman["sales.funnel.step"].browse(self.step["needs"].id), {"weight": 30.0}),
            (as_salesman["sales.funnel.step"].browse(self.step["solution"].id), {"requires_need": False}),
            (as_salesman["crm.stage"].browse(self.stage["needs"].id), {"funnel_weight_custom": True}),
            (as_salesman["crm.team"].browse(self.team.id), {"use_funnel_gates": False}),
            (as_salesman["crm.team"].browse(self.team.id), {"funnel_probability_mode": "automatic"}),
            (as_salesman["res.company"].browse(self.company.id), {"funnel_tier_big_amount": 1.0}),
        ]
        for record, values in attempts:
            with self.subTest(model=record._name, values=values), self.assertRaises(AccessError):
                record.write(values)
        self.assertEqual(self.step["needs"].weight, 25.0)
        self.assertTrue(self.team.use_funnel_gates)

    def test_salesman_qualifies_own_opportunities(self):
        lead = self._lead("needs").with_user(self.salesman)
        lead.write({"man_money": "yes", "man_need": "yes", "man_need_note": "replace spreadsheets"})
        self.assertEqual(lead.man_class, "not_assessed")
        lead.man_authority = "no"
        self.assertEqual(lead.man_class, "yny")

    def test_manager_changes_weights_and_gates(self):
        as_manager = self.env(user=self.manager)
        as_manager["sales.funnel.step"].browse(self.step["solution"].id).write(
            {"requires_need": False, "weight": 55}
        )
        self.assertEqual(self.stage["solution"].funnel_weight, 55.0)
        as_manager["crm.stage"].browse(self.stage["negotiation"].id).write(
            {"funnel_weight_custom": True, "funnel_weight": 95.0}
        )
        self.assertEqual(self.stage["negotiation"].funnel_weight, 95.0)


@tagged("post_install", "-at_install")
class TestAccessFollowsTheLeadNow(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_funnel_gates = False
        cls.company_a = cls.company
        cls.company_b = cls.env["res.company"].create({"name": "Access B"})
        both = (cls.company_a | cls.company_b).ids
        cls.only_a = new_test_user(
            cls.env, "access_only_a", groups="sales_team.group_sale_manager", company_id=cls.company_a.id,
            company_ids=[cls.company_a.id],
        )  # fmt: skip
        cls.only_b = new_test_user(
            cls.env, "access_only_b", groups="sales_team.group_sale_salesman_all_leads",
            company_id=cls.company_b.id, company_ids=[cls.company_b.id],
        )  # fmt: skip
        cls.both = new_test_user(
            cls.env, "access_both", groups="sales_team.group_sale_manager", company_id=cls.company_a.id,
            company_ids=both,
        )  # fmt: skip

    def test_history_of_a_lead_that_changed_company(self):
        lead = self._lead("identify", expected_revenue=77777)
        lead.stage_id = self.stage["needs"]
        team_b = self.env["crm.team"].create({"name": "Team B", "company_id": self.company_b.id})
        lead.write({"team_id": team_b.id, "company_id": self.company_b.id, "user_id": False})
        History = self.env["sales.funnel.history"]
        domain = [("lead_id", "=", lead.id)]
        self.assertFalse(History.with_user(self.only_a).search(domain), "no longer company A's")
        self.assertEqual(len(History.with_user(self.only_b).search(domain)), len(History.search(domain)))

    def test_a_workbook_is_its_makers_alone(self):
        export = (
            self.env["sales.funnel.export"]
            .with_user(self.both)
            .with_context(allowed_company_ids=[self.company_a.id, self.company_b.id])
            .create({"period": "this_month"})
        )
        self.assertEqual(export.action_export()["target"], "download")
        with self.assertRaises(AccessError):
            export.with_user(self.only_a).read(["date_from"])
        self.assertFalse(
            self.env["sales.funnel.export"].with_user(self.only_a).search([("id", "=", export.id)])
        )

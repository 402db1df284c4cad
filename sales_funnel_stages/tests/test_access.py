from odoo.exceptions import AccessError
from odoo.tests import tagged

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

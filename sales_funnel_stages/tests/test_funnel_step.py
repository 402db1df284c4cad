from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

# Funnel method, section 1: code, sequence and default weight of each step.
SPEC_STEPS = [
    ("identify", 10.0, "tofu"),
    ("needs", 25.0, "tofu"),
    ("solution", 50.0, "mofu"),
    ("proposal", 75.0, "mofu"),
    ("negotiation", 90.0, "bofu"),
    ("after_sales", 100.0, "after_sales"),
]


@tagged("post_install", "-at_install")
class TestFunnelStep(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steps = cls.env["sales.funnel.step"].search([])
        cls.salesman = new_test_user(cls.env, "funnel_salesman", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(cls.env, "funnel_manager", groups="sales_team.group_sale_manager")

    def test_six_steps_as_in_the_spec(self):
        self.assertEqual(
            [(s.code, s.weight, s.band) for s in self.steps],
            SPEC_STEPS,
        )

    def test_weight_range_and_order(self):
        needs = self.steps.filtered(lambda s: s.code == "needs")
        with self.assertRaises(ValidationError), self.cr.savepoint():
            needs.weight = 5  # below 'identify' (10)
        for bad in (120, -5):
            with self.assertRaisesRegex(ValidationError, "between 0 and 100"), self.cr.savepoint():
                needs.weight = bad
        # the database refuses it too, whatever writes it
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env.cr.execute("UPDATE sales_funnel_step SET weight = 120 WHERE id = %s", [needs.id])
        needs.weight = 30
        self.assertEqual(needs.weight, 30)

    def test_only_managers_change_weights(self):
        step = self.steps[0]
        with self.assertRaises(AccessError):
            step.with_user(self.salesman).weight = 12
        step.with_user(self.manager).weight = 12
        self.assertEqual(step.weight, 12)

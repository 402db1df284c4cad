from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import FunnelCase

NOT_NUMBERS = [float("nan"), float("inf"), float("-inf")]


@tagged("post_install", "-at_install")
class TestNotANumber(FunnelCase):
    """NaN and infinities are refused with the field's name, and the value
    in place is kept."""

    def test_weights_targets_thresholds_rates_shares(self):
        self.team.use_funnel_gates = False
        plan = self.env["sales.funnel.plan"].create({"team_id": self.team.id, "target_amount": 1000.0})
        cases = [
            (self.step["needs"], "weight"),
            (self.step["needs"], "target_conversion"),
            (self.stage["needs"], "funnel_weight"),
            (self.company, "funnel_tier_big_amount"),
            (self.company, "funnel_size_edge_1"),
            (plan, "target_amount"),
            (plan.member_ids[:1], "share"),
            (plan.size_ids[:1], "share"),
            (plan.step_ids[:1], "conversion"),
        ]
        for record, name in cases:
            before = record[name]
            label = record._fields[name]._description_string(self.env)
            for value in NOT_NUMBERS:
                with self.subTest(model=record._name, field=name, value=value):
                    with self.assertRaises(ValidationError) as refusal:
                        record.write({name: value})
                    self.assertIn(label, str(refusal.exception))
                    self.assertEqual(record[name], before)
        with self.assertRaises(ValidationError):
            self.env["sales.funnel.plan"].create({"team_id": self.team.id, "target_amount": float("nan")})

from datetime import date

from odoo.exceptions import UserError, ValidationError
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


@tagged("post_install", "-at_install")
class TestClearRefusals(FunnelCase):
    def test_export_dates_out_of_the_calendar(self):
        Export = self.env["sales.funnel.export"].with_user(self.manager)
        first_month = {"period": "custom", "date_from": date(1, 1, 1), "date_to": date(1, 1, 31)}
        for values in [
            first_month,
            {"period": "custom", "date_from": date(9999, 12, 1), "date_to": date(9999, 12, 31)},
            {**first_month, "comparison": "previous_year"},
            {**first_month, "comparison": "previous_period"},
            {"period": "this_month", "comparison": "custom", "compare_date_from": date(9999, 12, 31),
             "compare_date_to": date(9999, 12, 31)},
        ]:  # fmt: skip
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, "Choose dates between"):
                Export.create(values)
        export = Export.create(
            {"period": "custom", "date_from": date(2026, 1, 1), "date_to": date(2026, 1, 31)}
        )
        with self.assertRaisesRegex(ValidationError, "Choose dates between"):
            export.write({"date_to": date(9999, 12, 31)})
        export.invalidate_recordset(flush=False)
        self.assertEqual(export.date_to, date(2026, 1, 31))

    def test_funnel_health_scoped_by_bad_team_ids(self):
        Diagnosis = self.env["sales.funnel.diagnosis"].with_user(self.manager)
        for value in ["abc", 5, [1, "x"], ["1); DROP TABLE crm_lead; --"], [True], [None], {"a": 1}]:
            with self.subTest(value=value), self.assertRaisesRegex(UserError, "list of sales team ids"):
                Diagnosis.with_context(funnel_team_ids=value).search_read([], ["team_id"])
        rows = Diagnosis.with_context(funnel_team_ids=self.team.ids).search_read([], ["team_id"])
        self.assertEqual({row["team_id"][0] for row in rows if row["team_id"]}, set(self.team.ids))

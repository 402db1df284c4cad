from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestManQualification(FunnelCase):
    def test_eight_classes_and_their_actions(self):
        # Funnel method, section 4: (money, authority, need) -> class, action.
        expected = [
            (
                "yes",
                "yes",
                "yes",
                "M+A+N",
                "Qualified prospect, the ideal target: run the full sales process.",
            ),
            ("yes", "yes", "no", "M+A+n", "Contact: skilled selling can create the need."),
            ("yes", "no", "yes", "M+a+N", "Contact, and find the person who holds the authority."),
            ("no", "yes", "yes", "m+A+N", "Contact: check business and credit, offer financing."),
            ("no", "no", "yes", "m+a+N", "Contact: cultivate long-term until the missing conditions appear."),
            ("no", "yes", "no", "m+A+n", "Contact: cultivate long-term."),
            ("yes", "no", "no", "M+a+n", "Contact: cultivate long-term."),
            ("no", "no", "no", "m+a+n", "Not a customer: stop contact and disqualify."),
        ]
        labels = dict(self.env["crm.lead"]._fields["man_class"]._description_selection(self.env))
        lead = self._lead("identify")
        seen = set()
        for money, authority, need, label, action in expected:
            self._qualify(lead, money, authority, need)
            self.assertEqual(labels[lead.man_class], label)
            self.assertEqual(lead.man_action, action)
            seen.add(lead.man_class)
        self.assertEqual(len(seen), 8)

    def test_not_assessed_until_all_three_are_answered(self):
        lead = self._lead("identify")
        self.assertEqual(lead.man_class, "not_assessed")
        self._qualify(lead, "yes", "unknown", "yes")
        self.assertEqual(lead.man_class, "not_assessed")
        self.assertIn("Answer Money, Authority and Need", lead.man_action)

    def test_filters_and_group_by(self):
        leads = self._lead("identify") | self._lead("identify") | self._lead("needs")
        self._qualify(leads[0], "no", "no", "no")
        self._qualify(leads[1], "no", "no", "no")
        groups = dict(self.env["crm.lead"]._read_group([("id", "in", leads.ids)], ["man_class"], ["__count"]))
        self.assertEqual(groups, {"nnn": 2, "not_assessed": 1})
        need_no = self.env["crm.lead"].search_count([("id", "in", leads.ids), ("man_need", "=", "no")])
        self.assertEqual(need_no, 2)

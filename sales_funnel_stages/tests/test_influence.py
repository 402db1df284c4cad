from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestInfluenceFunnel(FunnelCase):
    """Three customers won this year, by hand: Alder also has an open
    renewal and referred three leads (one won, one lost), Birch won twice,
    Cedar nothing more. Won 3 -> repeat 2 (Alder, Birch) -> referrers 1
    (Alder) -> referred leads 3 -> referred won 1: it grows again after
    the referrers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.alder, cls.birch, cls.cedar = (
            Partner.create({"name": name}) for name in ("Alder", "Birch", "Cedar")
        )
        # won ten days ago: what is created now comes after the win
        won_on = fields.Datetime.now() - timedelta(days=10)
        for partner in (cls.alder, cls.birch, cls.birch, cls.cedar):
            deal = cls._lead("proposal", name=f"Deal {partner.name}", partner_id=partner.id)
            deal.action_set_won()
            deal.date_closed = won_on
            cls.env.flush_all()
            cls.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s WHERE id = %s", [won_on - timedelta(days=20), deal.id]
            )
        # Birch's second deal came after its first win: a repeat
        second = cls.env["crm.lead"].search([("name", "=", "Deal Birch")], order="id desc", limit=1)
        second.date_closed = won_on + timedelta(days=1)
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s", [won_on + timedelta(hours=1), second.id]
        )
        cls.env.invalidate_all()
        cls._lead("needs", name="Alder renewal", partner_id=cls.alder.id)
        cls.referred = [
            cls._lead("identify", name=f"Friend of Alder {index}", funnel_referred_by_id=cls.alder.id)
            for index in range(3)
        ]
        cls.referred[0].action_set_won()
        cls.referred[1].action_set_lost()
        cls.this_year = won_on.date().replace(month=1, day=1)  # the wins' year, early January too

    def test_levels_counted_by_hand(self):
        rows = self.env["sales.funnel.influence"].search(
            [("company_id", "=", self.company.id), ("year", "=", self.this_year)]
        )
        self.assertEqual(
            {row.level: row.count for row in rows},
            {"1_won": 3, "2_repeat": 2, "3_referrers": 1, "4_referred": 3, "5_referred_won": 1},
        )

    def test_referrals_on_the_customer(self):
        self.assertEqual(self.alder.funnel_referral_count, 3, "the lost one included")
        action = self.alder.action_funnel_referrals()
        leads = self.env["crm.lead"].with_context(**action["context"]).search(action["domain"])
        self.assertEqual(sorted(leads.mapped("name")), [f"Friend of Alder {index}" for index in range(3)])
        self.assertEqual(self.cedar.funnel_referral_count, 0)
        # a salesperson counts the referrals they may read
        self.referred[2].user_id = self.manager
        self.assertEqual(self.alder.with_user(self.salesman).funnel_referral_count, 2)

    def test_won_deals_get_the_after_sales_plan(self):
        self.team.funnel_key_step_mode = "schedule"
        deal = self._lead("negotiation", name="Deal Dogwood")
        deal.action_set_won()
        after_sales = self.step["after_sales"].activity_plan_id.template_ids.activity_type_id
        self.assertEqual(len(after_sales), 3)
        self.assertEqual(deal.activity_ids.activity_type_id & after_sales, after_sales)

    def test_referring_customer_from_crms_referred_by(self):
        lead = self.env["crm.lead"].create({"name": "Told by Birch", "referred": " birch "})
        self.assertEqual(lead.funnel_referred_by_id, self.birch)
        self.env["res.partner"].create({"name": "Birch"})  # two of that name: no guess
        self.assertFalse(
            self.env["crm.lead"].create({"name": "Which Birch", "referred": "Birch"}).funnel_referred_by_id
        )
        self.assertFalse(
            self.env["crm.lead"].create({"name": "Wild", "referred": "C_dar"}).funnel_referred_by_id
        )
        # the opportunity's form has it (its Contacts tab), beside crm's Referred By
        with Form(self.env["crm.lead"].with_context(default_type="opportunity")) as form:
            form.name = "Typed"
            form.referred = "Cedar"
            self.assertEqual(form.funnel_referred_by_id, self.cedar)
            form.funnel_referred_by_id = self.alder

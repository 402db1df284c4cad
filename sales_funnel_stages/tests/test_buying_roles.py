from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestBuyingRoles(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Buying Co", "is_company": True})
        cls.contacts = {
            name: cls.env["res.partner"].create({"name": name, "parent_id": cls.customer.id})
            for name in ("Owner", "IT Lead", "Purchaser", "Planner", "Assistant")
        }

    def _role(self, lead, contact, role, attitude="neutral", **values):
        return self.env["crm.lead.buying.role"].create(
            {
                "lead_id": lead.id,
                "partner_id": self.contacts[contact].id,
                "role": role,
                "attitude": attitude,
                **values,
            }
        )

    def test_coverage(self):
        lead = self._lead("needs", partner_id=self.customer.id)
        self.assertEqual(lead.buying_roles_known, 0)
        self.assertFalse(lead.buying_roles_complete)
        self.assertFalse(lead.buying_role_supporter)
        self.assertEqual(lead.buying_roles_missing, "Decision maker, Technical selector, Buyer, User")

        self._role(lead, "IT Lead", "technical", "opponent")
        self._role(lead, "Purchaser", "buyer")
        self._role(lead, "Assistant", "buyer", "supporter")  # a second buyer: still one role known
        self.assertEqual(lead.buying_roles_known, 2)
        self.assertEqual(lead.buying_roles_missing, "Decision maker, User")
        self.assertTrue(lead.buying_role_supporter)
        self.assertFalse(lead.buying_roles_complete)

        self._role(lead, "Planner", "user")
        self._role(lead, "Owner", "decision_maker")
        self.assertEqual(lead.buying_roles_known, 4)
        self.assertTrue(lead.buying_roles_complete)
        self.assertFalse(lead.buying_roles_missing)

        other = self._lead("needs")
        Lead = self.env["crm.lead"]
        self.assertEqual(
            Lead.search([("id", "in", (lead | other).ids), ("buying_roles_complete", "=", True)]), lead
        )
        self.assertEqual(
            Lead.search([("id", "in", (lead | other).ids), ("buying_roles_complete", "=", False)]), other
        )
        self.assertEqual(
            Lead.search([("id", "in", (lead | other).ids), ("buying_role_supporter", "=", False)]), other
        )

        lead.buying_role_ids.filtered(lambda role: role.attitude == "supporter").attitude = "neutral"
        self.assertFalse(lead.buying_role_supporter)

    def test_decision_maker_answers_authority(self):
        lead = self._lead("needs")
        self._role(lead, "Purchaser", "buyer")
        self.assertEqual(lead.man_authority, "unknown", "a buyer does not decide")
        self._role(lead, "Owner", "decision_maker", "opponent")
        self.assertEqual(lead.man_authority, "yes")
        self.assertEqual(lead.man_authority_note, "Owner")

        noted = self._lead("needs", man_authority="no", man_authority_note="the board")
        role = self._role(noted, "IT Lead", "technical")
        self.assertEqual(noted.man_authority, "no")
        role.role = "decision_maker"
        self.assertEqual(noted.man_authority, "yes")
        self.assertEqual(noted.man_authority_note, "the board", "a note already written is kept")
        role.unlink()
        self.assertEqual(noted.man_authority, "yes", "removing the decision maker keeps the answer")

    def test_decision_maker_opens_the_authority_gate(self):
        lead = self._lead("solution", man_need="yes")
        with self.assertRaises(UserError):
            lead.stage_id = self.stage["proposal"]
        lead.write({"buying_role_ids": [Command.create({"partner_id": self.contacts["Owner"].id,
                                                          "role": "decision_maker"})]})  # fmt: skip
        lead.stage_id = self.stage["proposal"]
        self.assertEqual(lead.funnel_step_id, self.step["proposal"])

    def test_form_shows_authority_at_once(self):
        lead = self._lead("needs")
        with Form(lead.with_user(self.salesman)) as form:
            with form.buying_role_ids.new() as role:
                role.partner_id = self.contacts["Owner"]
                role.role = "decision_maker"
            self.assertEqual(form.man_authority, "yes")
            self.assertEqual(form.buying_roles_known, 1)
        self.assertEqual(lead.man_authority, "yes")

    def test_roles_follow_the_opportunity_access(self):
        other = new_test_user(self.env, "buying_roles_other", groups="sales_team.group_sale_salesman")
        mine = self._lead("needs")
        theirs = self._lead("needs", user_id=other.id)
        self._role(theirs, "Owner", "decision_maker")
        Role = self.env["crm.lead.buying.role"].with_user(self.salesman)
        Role.create({"lead_id": mine.id, "partner_id": self.contacts["Planner"].id, "role": "user"})
        self.assertEqual(Role.search([("lead_id", "in", (mine | theirs).ids)]).lead_id, mine)
        with self.assertRaises(AccessError):
            Role.create({"lead_id": theirs.id, "partner_id": self.contacts["Planner"].id, "role": "user"})
        manager_roles = self.env["crm.lead.buying.role"].with_user(self.manager)
        self.assertEqual(len(manager_roles.search([("lead_id", "in", (mine | theirs).ids)])), 2)

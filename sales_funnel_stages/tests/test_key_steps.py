from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import FunnelCase

# The method's key steps (funnel method, section 1), as the plans ship them
KEY_STEPS = {
    "identify": ["Market research", "Customer referral", "Online promotion"],
    "needs": ["Customer interview", "Confirm needs", "Record needs"],
    "solution": ["Design the solution", "Present the solution", "Adjust the solution"],
    "proposal": ["Write the proposal", "Set the price", "Submit the proposal"],
    "negotiation": ["Prepare the negotiation", "Negotiate", "Sign the contract"],
    "after_sales": ["Solve problems", "Follow-up visit", "Improve the service"],
}


@tagged("post_install", "-at_install")
class TestKeySteps(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the MAN gates of the shipped data stay out of the way
        cls.steps.write({"requires_need": False, "requires_authority": False})

    def _key_steps(self, lead, active=None):
        """(activity type names, deadline offsets in days, assignees) of the
        lead's activities, in the order they were scheduled."""
        domain = [("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)]
        if active is not None:
            domain.append(("active", "=", active))
        activities = self.env["mail.activity"].with_context(active_test=False).search(domain, order="id")
        today = fields.Date.context_today(lead)
        return (
            activities.activity_type_id.mapped("name"),
            [(activity.date_deadline - today).days for activity in activities],
            activities.user_id,
        )

    def test_each_step_ships_its_plan(self):
        for code, names in KEY_STEPS.items():
            plan = self.step[code].activity_plan_id
            self.assertEqual(plan.res_model, "crm.lead")
            self.assertFalse(plan.company_id, "every company's teams use the shipped plans")
            self.assertEqual(plan.template_ids.sorted("sequence").activity_type_id.mapped("name"), names)
            self.assertTrue(self.step[code].guidance)

    def test_key_step_names_notes_and_guidance_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["res.lang"]._activate_lang("zh_TW")
        self.env["ir.module.module"].search([("name", "=", "sales_funnel_stages")])._update_translations(
            ["zh_CN", "zh_TW"]
        )
        types = self.step["needs"].activity_plan_id.template_ids.sorted("sequence").activity_type_id
        self.assertEqual(
            types.with_context(lang="zh_CN").mapped("name"), ["客户访谈", "需求确认", "需求记录"]
        )
        self.assertEqual(
            types.with_context(lang="zh_TW").mapped("name"), ["客戶訪談", "需求確認", "需求記錄"]
        )
        self.assertIn("痛点", types[0].with_context(lang="zh_CN").default_note)
        self.assertIn("痛點", types[0].with_context(lang="zh_TW").default_note)
        self.assertIn("信任", self.step["needs"].with_context(lang="zh_CN").guidance)
        self.assertIn("信任", self.step["needs"].with_context(lang="zh_TW").guidance)

    def test_proposed_by_default_scheduled_in_one_click(self):
        self.assertEqual(self.team.funnel_key_step_mode, "propose")
        lead = self._lead("identify")
        lead.stage_id = self.stage["needs"]
        self.assertEqual(self._key_steps(lead)[0], [], "proposed: nothing scheduled by the move")
        self.assertEqual(
            (lead.funnel_key_steps_total, lead.funnel_key_steps_done, lead.funnel_key_steps_planned),
            (3, 0, False),
        )
        lead.with_user(self.salesman).action_funnel_plan_key_steps()
        names, offsets, users = self._key_steps(lead)
        self.assertEqual(names, KEY_STEPS["needs"])
        self.assertEqual(offsets, [0, 3, 7])
        self.assertEqual(users, self.salesman)
        self.assertTrue(lead.funnel_key_steps_planned)
        # a second click adds nothing
        lead.action_funnel_plan_key_steps()
        self.assertEqual(len(self._key_steps(lead)[0]), 3)

    def test_scheduled_automatically_on_entering_a_step(self):
        self.team.funnel_key_step_mode = "schedule"
        lead = self._lead("identify")
        self.assertEqual(self._key_steps(lead)[0], KEY_STEPS["identify"], "a new lead enters its first step")
        lead.write({"stage_id": self.stage["needs"].id})
        self.assertEqual(self._key_steps(lead)[0], KEY_STEPS["identify"] + KEY_STEPS["needs"])
        # back and forth: a step entered again keeps the activities it has
        lead.stage_id = self.stage["identify"]
        lead.stage_id = self.stage["needs"]
        self.assertEqual(len(self._key_steps(lead)[0]), 6)
        # won: the after-sales plan follows the customer
        lead.action_set_won()
        self.assertEqual(self._key_steps(lead)[0][-3:], KEY_STEPS["after_sales"])

    def test_nothing_when_the_team_says_so(self):
        self.team.funnel_key_step_mode = "none"
        lead = self._lead("identify")
        lead.stage_id = self.stage["needs"]
        self.assertEqual(self._key_steps(lead)[0], [])

    def test_progress_counts_the_done_key_steps_of_the_current_step(self):
        lead = self._lead("needs")
        lead.action_funnel_plan_key_steps()
        activities = lead.activity_ids.sorted("date_deadline")
        self.assertEqual((lead.funnel_key_steps_done, lead.funnel_key_steps_total), (0, 3))
        activities[0].action_feedback(feedback="Met the IT director")
        self.env.invalidate_all()  # the form reads it in the next request
        self.assertEqual((lead.funnel_key_steps_done, lead.funnel_key_steps_total), (1, 3))
        activities[1].action_feedback()
        self.env.invalidate_all()
        self.assertEqual(lead.funnel_key_steps_done, 2)
        # another activity of the lead is no key step, done or not
        lead.activity_schedule("mail.mail_activity_data_todo", summary="Call back").action_done()
        lead.activity_schedule("mail.mail_activity_data_todo", summary="Send the brochure")
        self.env.invalidate_all()
        self.assertEqual((lead.funnel_key_steps_done, lead.funnel_key_steps_total), (2, 3))
        # the next step's progress starts again
        lead.stage_id = self.stage["solution"]
        self.assertEqual((lead.funnel_key_steps_done, lead.funnel_key_steps_total), (0, 3))

    def test_gate_requires_the_previous_key_steps(self):
        self.step["solution"].requires_key_steps = True
        lead = self._lead("needs", name="Warehouse scanners")
        lead.action_funnel_plan_key_steps()
        interview = lead.activity_ids.filtered(
            lambda activity: activity.activity_type_id.name == "Customer interview"
        )
        interview.action_done()
        with self.assertRaises(UserError) as refused:
            lead.with_user(self.salesman).write({"stage_id": self.stage["solution"].id})
        message = str(refused.exception)
        self.assertIn("Warehouse scanners", message)
        self.assertIn("“Confirm needs”", message)
        self.assertIn("“Record needs”", message)
        self.assertNotIn("Customer interview", message)
        self.assertEqual(lead.stage_id, self.stage["needs"], "refused: the lead stays")
        self.assertIn("Confirm needs", lead.funnel_gate_status)
        lead.activity_ids.action_done()
        lead.with_user(self.salesman).write({"stage_id": self.stage["solution"].id})
        self.assertEqual(lead.stage_id, self.stage["solution"])

    def test_gate_off_by_default_and_never_on_a_win_or_backwards(self):
        self.assertFalse(any(self.env["sales.funnel.step"].search([]).mapped("requires_key_steps")))
        self.step["proposal"].requires_key_steps = True
        self.step["negotiation"].requires_key_steps = True
        lead = self._lead("identify")
        lead.stage_id = self.stage["needs"]  # the needs step is not gated
        lead.action_set_won()  # a win is never refused
        self.assertTrue(lead.stage_id.is_won)
        other = self._lead("solution")
        with self.assertRaises(UserError):
            other.stage_id = self.stage["proposal"]
        other.stage_id = self.stage["needs"]  # backwards: always
        self.assertEqual(other.stage_id, self.stage["needs"])

    def test_gate_off_on_teams_without_gates(self):
        self.team.use_funnel_gates = False
        self.step["solution"].requires_key_steps = True
        lead = self._lead("needs")
        lead.stage_id = self.stage["solution"]
        self.assertEqual(lead.stage_id, self.stage["solution"])

    def test_plan_date_is_the_day_the_step_is_entered(self):
        self.team.funnel_key_step_mode = "schedule"
        lead = self._lead("negotiation")
        deadlines = lead.activity_ids.sorted("date_deadline").mapped("date_deadline")
        today = fields.Date.context_today(lead)
        self.assertEqual(deadlines, [today, today + timedelta(days=3), today + timedelta(days=7)])

    def test_form_moves_on_once_the_key_steps_are_done(self):
        self.step["solution"].requires_key_steps = True
        lead = self._lead("needs")
        lead.action_funnel_plan_key_steps()
        lead.activity_ids.action_done()
        with Form(lead.with_user(self.salesman)) as form:
            self.assertEqual(form.funnel_key_steps_done, 3, "counted on the form's record too")
            form.stage_id = self.stage["solution"]
        self.assertEqual(lead.stage_id, self.stage["solution"])

    def test_gate_asks_the_key_steps_of_the_step_left(self):
        self.step["proposal"].requires_key_steps = True
        lead = self._lead("identify")
        with self.assertRaises(UserError) as refused:
            lead.stage_id = self.stage["proposal"]  # skipping needs and solution
        self.assertIn("Market research", str(refused.exception))
        # created in the gated step: it leaves no step
        created = self._lead("proposal")
        self.assertEqual(created.stage_id, self.stage["proposal"])

    def test_scheduled_for_the_team_leader_when_unassigned_in_every_company(self):
        self.team.funnel_key_step_mode = "schedule"
        self.team.user_id = self.manager
        other_company = self.env["res.company"].create({"name": "Funnel Branch"})
        self.env.user.company_ids |= other_company
        self.team.company_id = False
        leads = self._lead("identify", name="Here", user_id=False) | self._lead(
            "identify", name="There", company_id=other_company.id, user_id=False
        )
        leads.write({"stage_id": self.stage["needs"].id})  # one write, leads of two companies
        for lead in leads:
            names, _offsets, users = self._key_steps(lead)
            self.assertEqual(names, KEY_STEPS["identify"] + KEY_STEPS["needs"])
            self.assertEqual(users, self.manager, "no salesperson: the team's leader")

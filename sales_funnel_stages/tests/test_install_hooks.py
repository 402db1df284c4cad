from datetime import date, timedelta

from odoo.tests import tagged

from odoo.addons.sales_funnel_stages.hooks import NEW_COLUMNS, pre_init_hook

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestInstallHooks(FunnelCase):
    def test_pre_init_hook_is_idempotent(self):
        pre_init_hook(self.env)  # columns exist: nothing to do, nothing raised
        for table, column, _type, value, not_null in NEW_COLUMNS:
            self.env.cr.execute(
                "SELECT is_nullable, column_default FROM information_schema.columns"
                " WHERE table_name = %s AND column_name = %s",
                [table, column],
            )
            default = f"'{value}'::character varying" if value else None
            self.assertEqual(self.env.cr.fetchone(), ("NO" if not_null else "YES", default), column)

    def test_a_team_written_without_the_addon_fields(self):
        """As a module loaded before the addon writes one (crm_sms's tests,
        during an update): the columns' defaults fill the addon's fields."""
        alias = self.env["mail.alias"].create({"alias_model_id": self.env["ir.model"]._get_id("crm.lead")})
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO crm_team (name, sequence, active, company_id, alias_id, create_uid, write_uid)
            VALUES ('{"en_US": "Loaded before"}', 10, TRUE, %s, %s, %s, %s)
            RETURNING id, funnel_probability_mode
            """,
            [self.company.id, alias.id, self.env.uid, self.env.uid],
        )
        team_id, mode = self.env.cr.fetchone()
        self.assertEqual(mode, "automatic")
        self.assertEqual(self.env["crm.team"].browse(team_id).funnel_probability_mode, "automatic")

    def test_sql_refresh_fills_what_the_orm_computes(self):
        soon = date.today() + timedelta(days=10)
        leads = (
            self._lead("proposal", expected_revenue=200000, date_deadline=soon)  # 150,000, A
            | self._lead("needs", expected_revenue=1234.56)  # 308.64, D
            | self._lead("identify", expected_revenue=40000, priority_tier_override="b")  # 4,000, B
        )
        lost = self._lead("solution", expected_revenue=99999)
        lost.action_set_lost()  # 0, C
        leads |= lost
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET weighted_revenue = NULL, priority_tier = NULL WHERE id IN %s",
            [tuple(leads.ids)],
        )
        self.env["crm.lead"]._funnel_refresh_values()
        leads.invalidate_recordset()
        self.assertEqual(leads.mapped("weighted_revenue"), [150000.0, 308.64, 4000.0, 0.0])
        self.assertEqual(leads.mapped("priority_tier"), ["a", "d", "b", "c"])

    def _existing_pipeline(self, team_name, names):
        """A team whose pipeline is `names` (a last "Signed" is won), none of
        them mapped yet."""
        team = self.env["crm.team"].create({"name": team_name})
        stages = self.env["crm.stage"].create(
            [
                {
                    "name": name,
                    "sequence": 100 + index,
                    "team_ids": [(6, 0, team.ids)],
                    "is_won": name == "Signed",
                }
                for index, name in enumerate(names)
            ]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_stage SET funnel_step_id = NULL, funnel_weight = 0 WHERE id IN %s",
            [tuple(stages.ids)],
        )
        self.env.invalidate_all()
        return team, stages

    def test_existing_stages_mapped_by_meaning_then_place(self):
        """An existing CRM: no stage is renamed or deleted; won stages map to
        after-sales; the others by what their name means, in any language,
        else by their place in the pipeline, never going back."""
        other = self.env["crm.team"].create({"name": "Elsewhere"})
        # only the new stages are in the teams' pipelines
        self.env["crm.stage"].search([]).write({"team_ids": [(6, 0, other.ids)]})
        team, stages = self._existing_pipeline(
            "Existing team", ["New", "Qualified", "Proposition", "Demo", "Negotiation", "Contract", "Signed"]
        )
        _chinese, chinese = self._existing_pipeline(
            "华东区", ["线索", "Renewal", "方案演示", "报价", "Stage X"]
        )
        lead = self.env["crm.lead"].create(
            {"name": "Old deal", "type": "opportunity", "team_id": team.id, "stage_id": stages[3].id,
             "expected_revenue": 10000}
        )  # fmt: skip
        self.env["crm.stage"]._funnel_map_existing_stages()
        self.env["crm.lead"]._funnel_refresh_values()
        self.env.invalidate_all()
        self.assertEqual(
            [(stage.name, stage.funnel_step_id.code, stage.funnel_weight) for stage in stages],
            [
                ("New", "identify", 10.0),
                ("Qualified", "needs", 25.0),
                ("Proposition", "proposal", 75.0),
                # a demo is solution design, but it comes after the proposal here
                ("Demo", "proposal", 75.0),
                ("Negotiation", "negotiation", 90.0),
                ("Contract", "negotiation", 90.0),
                ("Signed", "after_sales", 100.0),
            ],
        )
        self.assertEqual(
            [(stage.name, stage.funnel_step_id.code) for stage in chinese],
            [
                ("线索", "identify"),
                # no meaning ("new" starts no word of it): its place, the second
                ("Renewal", "needs"),
                ("方案演示", "solution"),
                ("报价", "proposal"),
                ("Stage X", "negotiation"),
            ],
        )
        self.assertEqual(lead.weighted_revenue, 7500.0)


@tagged("post_install", "-at_install")
class TestNewDatabaseStages(FunnelCase):
    def test_one_stage_per_step_on_a_new_crm(self):
        solution = self.env.ref("sales_funnel_stages.crm_stage_solution", raise_if_not_found=False)
        if not solution:
            self.skipTest("installed on a database that already had a CRM")
        expected = [
            ("crm.stage_lead1", "New", "identify", 10.0),
            ("crm.stage_lead2", "Qualified", "needs", 25.0),
            ("sales_funnel_stages.crm_stage_solution", "Solution design", "solution", 50.0),
            ("crm.stage_lead3", "Proposition", "proposal", 75.0),
            ("sales_funnel_stages.crm_stage_negotiation", "Negotiation & signing", "negotiation", 90.0),
            ("crm.stage_lead4", "Won", "after_sales", 100.0),
        ]
        for sequence, (xmlid, name, code, weight) in enumerate(expected, start=1):
            stage = self.env.ref(xmlid)
            self.assertEqual(
                (stage.name, stage.sequence, stage.funnel_step_id.code, stage.funnel_weight, stage.is_won),
                (name, sequence, code, weight, code == "after_sales"),
            )
        self.assertEqual(
            [self.env.ref(xmlid).rotting_threshold_days for xmlid, *_stage in expected],
            [14, 21, 30, 21, 30, 0],
        )

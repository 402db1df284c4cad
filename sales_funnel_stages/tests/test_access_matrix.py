import io
import logging
from datetime import date
from unittest.mock import patch

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .access_matrix import CELLS, ROLES, expectations

_logger = logging.getLogger(__name__)

# Opportunities: company and amount (in that company's currency), partner
# and tier. "moved" was made in company A and moved to company B since.
LEADS = {
    "own": ("a", 1000.0, True, "d"),
    "peer": ("a", 2000.0, True, "a"),
    "free": ("a", 4000.0, False, "b"),
    "moved": ("b", 8000.0, False, "b"),
    "b": ("b", 16000.0, True, "c"),
}
# Whose they are (None: unassigned)
OWNERS = {"own": "own", "peer": "all", "free": None, "moved": "other_company", "b": "other_company"}
# What each role may read: crm's rules on leads, the companies they work in
VISIBLE = {
    "own": {"own", "free"},
    "all": {"own", "peer", "free"},
    "leader": {"own", "peer", "free"},
    "admin": set(LEADS),
    "other_company": {"moved", "b"},
}
PLAN_LINES = [
    "sales.funnel.plan.member",
    "sales.funnel.plan.step",
    "sales.funnel.plan.size",
    "sales.funnel.plan.coverage",
]
B_RATE = 2.0  # company B's currency per unit of company A's
REFUSED = object()  # what a refused try gives: AccessError, no file, no mail


@tagged("post_install", "-at_install")
class TestAccessMatrix(HttpCase):
    """Every role, object and action of `access_matrix.CELLS`: each cell
    is tried for real as that user and must be allowed or refused as the
    table says; an allowed read must return exactly the rows that role may
    see."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._companies()
        cls._users()
        cls._teams_and_leads()
        cls._plans()
        # a salesperson of team A on none of its plans
        cls.spare = new_test_user(
            cls.env, "matrix_spare", groups="sales_team.group_sale_salesman", company_id=cls.company["a"].id,
            company_ids=cls.company["a"].ids,
        )  # fmt: skip
        cls.team["a"].member_ids |= cls.spare
        maker = cls.env(
            user=cls.maker, context=dict(cls.env.context, allowed_company_ids=cls.company["a"].ids)
        )
        cls.made = maker["sales.funnel.export"].create({"period": "this_year"})
        cls.made.action_export()

    @classmethod
    def _companies(cls):
        env = cls.env
        home = env.company.currency_id
        foreign = env.ref("base.EUR") if home != env.ref("base.EUR") else env.ref("base.USD")
        foreign.active = True
        env["res.currency.rate"].search([("currency_id", "in", (home | foreign).ids)]).unlink()
        env["res.currency.rate"].create(
            [
                {"currency_id": home.id, "rate": 1.0, "name": date(2020, 1, 1), "company_id": False},
                {"currency_id": foreign.id, "rate": B_RATE, "name": date(2020, 1, 1), "company_id": False},
            ]
        )
        cls.company = {
            "a": env["res.company"].create({"name": "Matrix A", "currency_id": home.id}),
            "b": env["res.company"].create({"name": "Matrix B", "currency_id": foreign.id}),
        }

    @classmethod
    def _users(cls):
        a, b = cls.company["a"], cls.company["b"]
        groups = {
            "own": ("sales_team.group_sale_salesman", a, a),
            "all": ("sales_team.group_sale_salesman_all_leads", a, a),
            "leader": ("sales_team.group_sale_salesman_all_leads", a, a),
            "admin": ("sales_team.group_sale_manager", a, a | b),
            "other_company": ("sales_team.group_sale_salesman_all_leads", b, b),
            "portal": ("base.group_portal", a, a),
        }
        cls.user = {
            role: new_test_user(
                cls.env,
                f"matrix_{role}",
                groups=group,
                company_id=main.id,
                company_ids=companies.ids,
                email=f"matrix_{role}@example.com",
            )
            for role, (group, main, companies) in groups.items()
        }
        cls.user["public"] = cls.env.ref("base.public_user")
        cls.maker = new_test_user(
            cls.env, "matrix_maker", groups="sales_team.group_sale_manager", company_id=a.id,
            company_ids=(a | b).ids,
        )  # fmt: skip

    @classmethod
    def _teams_and_leads(cls):
        env = cls.env
        cls.team = {
            "a": env["crm.team"].create(
                {"name": "Matrix team A", "company_id": cls.company["a"].id, "user_id": cls.user["leader"].id,
                 "member_ids": [Command.link(cls.user[role].id) for role in ("own", "all", "leader")]}
            ),
            "b": env["crm.team"].create(
                {"name": "Matrix team B", "company_id": cls.company["b"].id,
                 "member_ids": [Command.link(cls.user["other_company"].id)]}
            ),
        }  # fmt: skip
        cls.partner = env["res.partner"].create({"name": "Matrix customer"})
        identify, needs = (
            env["crm.stage"].search([("funnel_step_id.code", "=", code)], limit=1)
            for code in ("identify", "needs")
        )
        cls.needs_step = needs.funnel_step_id
        cls.identify_step = identify.funnel_step_id
        cls.lead = {}
        for name, (company, amount, with_partner, tier) in LEADS.items():
            # "moved" starts as a company A opportunity of the all-documents salesperson
            owner = "all" if name == "moved" else OWNERS[name]
            first_company = "a" if name == "moved" else company
            lead = env["crm.lead"].create(
                {"name": f"Matrix {name}", "type": "opportunity", "company_id": cls.company[first_company].id,
                 "team_id": cls.team[first_company].id, "user_id": cls.user[owner].id if owner else False,
                 "stage_id": identify.id, "expected_revenue": amount, "priority_tier_override": tier,
                 "partner_id": cls.partner.id if with_partner else False}
            )  # fmt: skip
            lead.stage_id = needs
            cls.lead[name] = lead
        cls.lead["moved"].write(
            {
                "company_id": cls.company["b"].id,
                "team_id": cls.team["b"].id,
                "user_id": cls.user["other_company"].id,
            }
        )
        cls.roles_on_lead = env["crm.lead.buying.role"].create(
            [
                {"lead_id": lead.id, "partner_id": cls.partner.id, "role": "buyer"}
                for lead in cls.lead.values()
            ]
        )

    @classmethod
    def _plans(cls):
        cls.plan = {
            company: cls.env["sales.funnel.plan"].create(
                {
                    "team_id": cls.team[company].id,
                    "company_id": cls.company[company].id,
                    "target_amount": 100000.0,
                }
            )
            for company in ("a", "b")
        }

    # ------------------------------------------------------------ helpers

    def _env(self, role):
        user = self.user[role]
        companies = (user.company_id | user.company_ids).ids
        return self.env(user=user, context=dict(self.env.context, allowed_company_ids=companies))

    def _names(self, leads):
        by_id = {lead.id: name for name, lead in self.lead.items()}
        return {by_id[lead_id] for lead_id in leads.ids if lead_id in by_id}

    def _names_of_ids(self, lead_ids):
        return self._names(self.env["crm.lead"].browse(lead_ids))

    def _ours(self, lead_ids):
        return {lead_id for lead_id in lead_ids if lead_id in {lead.id for lead in self.lead.values()}}

    def _workbook_rows(self, data):
        """{opportunity: amount} of the Open Pipeline sheet."""
        sheet = openpyxl.load_workbook(io.BytesIO(data))["Open Pipeline"]
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        name_col, amount_col = header.index("Opportunity"), header.index("Amount")
        by_name = {f"Matrix {name}": name for name in LEADS}
        return {by_name[row[name_col]]: row[amount_col] for row in rows[1:] if row[name_col] in by_name}

    def _expected_amounts(self, role):
        """Open Pipeline amounts in the currency of the role's company."""
        main = self.user[role].company_id
        factors = {"a": 1.0, "b": 1.0 / B_RATE} if main == self.company["a"] else {"a": B_RATE, "b": 1.0}
        return {name: LEADS[name][1] * factors[LEADS[name][0]] for name in VISIBLE[role]}

    def _best_tier(self, role):
        tiers = [LEADS[name][3] for name in VISIBLE[role] if LEADS[name][2]]
        return min(tiers) if tiers else False

    # ------------------------------------------------------------ cells

    def _cells(self):
        """{(object, action): function(env, role) -> rows seen or None}"""
        return {
            ("Funnel steps", "read"): lambda env, role: env["sales.funnel.step"].search_read([], ["weight"]),
            ("Funnel steps", "write"): lambda env, role: (
                env["sales.funnel.step"].browse(self.needs_step.id).write({"weight": 26.0})
            ),
            ("Funnel steps", "create"): lambda env, role: env["sales.funnel.step"].create(
                {"name": "Matrix", "code": "matrix", "weight": 1.0, "sequence": 99}
            ),
            ("Funnel steps", "unlink"): lambda env, role: (
                env["sales.funnel.step"].browse(self.needs_step.id).unlink()
            ),
            ("Stage weights and gates", "read"): lambda env, role: env["crm.stage"].search_read(
                [], ["funnel_weight", "funnel_step_id"]
            ),
            ("Stage weights and gates", "write"): lambda env, role: (
                env["crm.stage"]
                .browse(self.lead["own"].stage_id.id)
                .write({"funnel_weight_custom": True, "funnel_weight": 33.0})
            ),
            ("Company thresholds", "write"): lambda env, role: (
                env["res.company"].browse(self.company["a"].id).write({"funnel_tier_big_amount": 1.0})
            ),
            ("Funnel settings", "write"): lambda env, role: (
                env["res.config.settings"].create({"funnel_weekly_report": True}).execute()
            ),
            ("Leads' funnel fields", "read"): self._read_leads,
            ("Leads' funnel fields", "write (a company A lead)"): lambda env, role: (
                env["crm.lead"].browse(self.lead["own"].id).write({"man_money": "yes"})
            ),
            ("Stage history", "read"): lambda env, role: self._names(
                env["sales.funnel.history"]
                .search([("lead_id", "in", [lead.id for lead in self.lead.values()])])
                .lead_id
            ),
            ("Stage history", "create"): lambda env, role: env["sales.funnel.history"].create(
                {"lead_id": self.lead["own"].id, "to_stage_id": self.lead["own"].stage_id.id}
            ),
            ("Stage history", "write"): lambda env, role: self._history(env).write({"expected_revenue": 1.0}),
            ("Stage history", "unlink"): lambda env, role: self._history(env).unlink(),
            ("Per-lead summary", "read"): lambda env, role: env["sales.funnel.lead.step"].search_read(
                [], ["lead_id"]
            ),
            ("Funnel report", "search_read"): lambda env, role: self._names_of_ids(
                row["lead_id"][0]
                for row in env["sales.funnel.report"].search_read([], ["lead_id"])
                if row["lead_id"]
            ),
            ("Funnel report", "formatted_read_group"): lambda env, role: self._names_of_ids(
                group["lead_id"][0]
                for group in env["sales.funnel.report"].formatted_read_group([], ["lead_id"], ["__count"])
                if group["lead_id"]
            ),
            ("Funnel report", "web_read_group"): lambda env, role: self._names_of_ids(
                group["lead_id"][0]
                for group in env["sales.funnel.report"].web_read_group([], ["lead_id"], ["__count"])["groups"]
                if group["lead_id"]
            ),
            ("Funnel report", "get_funnel"): self._get_funnel,
            ("Funnel report", "get_funnel_kpis"): self._get_funnel_kpis,
            ("Funnel report", "write"): lambda env, role: (
                env["sales.funnel.report"].search([], limit=1).write({"expected_revenue": 1.0})
            ),
            ("Funnel chart drill-down", "call"): self._drill_down,
            ("Export wizard", "create and export"): self._export,
            ("Export wizard", "read another user's workbook"): lambda env, role: (
                env["sales.funnel.export"].browse(self._makers_export().id).read(["date_from", "date_to"])
            ),
            ("Workbook download route", "another user's workbook"): self._download_workbook,
            ("Weekly mail", "content, as a team's leader"): self._weekly_mail,
            ("Funnel plans", "read"): lambda env, role: {
                plan["id"]
                for plan in env["sales.funnel.plan"].search_read([("id", "in", self._plan_ids())], ["id"])
            },
            ("Funnel plans", "write"): lambda env, role: (
                env["sales.funnel.plan"].browse(self.plan["a"].id).write({"target_amount": 1.0})
            ),
            ("Funnel plans", "create"): lambda env, role: env["sales.funnel.plan"].create(
                {"team_id": self.team["a"].id, "target_amount": 1.0}
            ),
            ("Funnel plans", "unlink"): lambda env, role: (
                env["sales.funnel.plan"].browse(self.plan["a"].id).unlink()
            ),
            ("Plan lines", "read"): lambda env, role: {
                line["plan_id"][0]
                for model in PLAN_LINES
                for line in env[model].search_read([("plan_id", "in", self._plan_ids())], ["plan_id"])
            },
            ("Plan lines", "write"): lambda env, role: (
                env["sales.funnel.plan.step"]
                .browse(self.plan["a"].step_ids[:1].id)
                .write({"conversion": 12.0})
            ),
            ("Plan lines", "create"): lambda env, role: env["sales.funnel.plan.member"].create(
                {"plan_id": self.plan["a"].id, "user_id": self.spare.id, "share": 0.0}
            ),
            ("Plan lines", "unlink"): lambda env, role: (
                env["sales.funnel.plan.member"].browse(self._spare_line().id).unlink()
            ),
            ("Forecast by month", "read"): lambda env, role: self._names_of_ids(
                row["lead_id"][0] for row in env["sales.funnel.forecast"].search_read([], ["lead_id"])
            ),
            ("Forecast by month", "write"): lambda env, role: (
                env["sales.funnel.forecast"].search([], limit=1).write({"expected_revenue": 1.0})
            ),
            ("Measured weights", "read"): lambda env, role: {
                row["company_id"][0] for row in env["sales.funnel.weight"].search_read([], ["company_id"])
            },
            ("Measured weights", "adopt for a team"): lambda env, role: (
                env["crm.team"].browse(self.team["a"].id).action_funnel_adopt_measured_weights()
            ),
            ("Funnel health", "read"): self._health,
            ("Funnel health", "deals won without history"): lambda env, role: (
                env["sales.funnel.diagnosis"].search([]).action_open_won_without_history()
            ),
            ("Buying roles", "read"): lambda env, role: self._names(
                env["crm.lead.buying.role"].search([("id", "in", self.roles_on_lead.ids)]).lead_id
            ),
            ("Buying roles", "create (a company A lead)"): lambda env, role: env[
                "crm.lead.buying.role"
            ].create({"lead_id": self.lead["own"].id, "partner_id": self.partner.id, "role": "user"}),
            ("Buying roles", "write (a company A lead)"): lambda env, role: self._role_on("own", env).write(
                {"attitude": "supporter"}
            ),
            ("Buying roles", "unlink (a company A lead)"): lambda env, role: self._role_on(
                "own", env
            ).unlink(),
            ("Partner's best tier", "read"): lambda env, role: (
                env["res.partner"].browse(self.partner.id).read(["funnel_best_tier"])[0]["funnel_best_tier"]
            ),
            ("Partner's best tier", "search"): lambda env, role: (
                env["res.partner"].search([("funnel_best_tier", "=", "a")]) & self.partner
            ),
        }

    def _read_leads(self, env, role):
        leads = env["crm.lead"].search([("id", "in", [lead.id for lead in self.lead.values()])])
        leads.read(["man_class", "priority_tier", "funnel_step_id", "weighted_revenue"])
        return self._names(leads)

    def _history(self, env):
        return env["sales.funnel.history"].browse(
            self.env["sales.funnel.history"].search([("lead_id", "=", self.lead["own"].id)], limit=1).id
        )

    def _get_funnel(self, env, role):
        lines = env["sales.funnel.report"].get_funnel(
            [("lead_id", "in", [lead.id for lead in self.lead.values()])]
        )
        return {line["step_code"]: line["entered_count"] for line in lines if line["entered_count"]}

    def _get_funnel_kpis(self, env, role):
        kpis = env["sales.funnel.report"].get_funnel_kpis(
            [("lead_id", "in", [lead.id for lead in self.lead.values()])]
        )
        return kpis["entered"]

    def _drill_down(self, env, role):
        action = env["sales.funnel.report"].action_open_step_leads([], self.needs_step.id)
        step = [("step_id", "=", action["context"]["search_default_step_id"])]
        return self._names(env["sales.funnel.report"].search(action["domain"] + step).lead_id)

    def _export(self, env, role):
        wizard = env["sales.funnel.export"].create({"period": "this_year"})
        wizard.action_export()
        return self._workbook_rows(wizard._in_export_companies()._workbook())

    def _makers_export(self):
        return self.made

    def test_the_maker_downloads_their_workbook(self):
        """What the download cells refuse works for the workbook's maker."""
        self.authenticate(self.maker.login, self.maker.login)
        response = self.url_open(self.made._download_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            self._workbook_rows(response.content),
            self._workbook_rows(self.made._in_export_companies()._workbook()),
        )
        # a name in Chinese, and one in ASCII for the programs that read no other
        chinese = "销售漏斗 2026-01-01 至 2026-03-31.xlsx"
        with patch.object(type(self.made), "_file_name", lambda export: chinese):
            disposition = self.url_open(self.made._download_url()).headers["Content-Disposition"]
        plain = f"sales_funnel_{self.made.date_from.isoformat()}_{self.made.date_to.isoformat()}.xlsx"
        self.assertEqual(
            disposition,
            f"attachment; filename=\"{plain}\"; filename*=UTF-8''"
            "%E9%94%80%E5%94%AE%E6%BC%8F%E6%96%97%202026-01-01%20%E8%87%B3%202026-03-31.xlsx",
        )

    def _download(self, env, role, url):
        if role == "public":
            self.logout()
        else:
            self.authenticate(self.user[role].login, self.user[role].login)
        response = self.url_open(url)
        if response.status_code != 200 or response.content[:2] != b"PK":
            return REFUSED
        return None

    def _download_workbook(self, env, role):
        return self._download(env, role, self._makers_export()._download_url())

    def _weekly_mail(self, env, role):
        """The mail of the weekly report to `role` made leader of the team of
        their company: the workbook's opportunities, or refused when none is
        sent."""
        company = "b" if role == "other_company" else "a"
        self.user[role].company_ids |= self.company[company]  # the public user included
        self.team[company].user_id = self.user[role]
        Mail = self.env["mail.mail"]
        before = Mail.search([])
        self.env["ir.config_parameter"].set_param("sales_funnel_stages.weekly_report", "True")
        self.env["sales.funnel.weekly.report"]._cron_send()
        mail = (Mail.search([]) - before).filtered(
            lambda mail: mail.recipient_ids == self.user[role].partner_id
        )
        if not mail:
            return REFUSED
        return self._workbook_rows(mail.attachment_ids.raw)

    def _plan_ids(self):
        return [plan.id for plan in self.plan.values()]

    def _spare_line(self):
        return self.env["sales.funnel.plan.member"].create(
            {"plan_id": self.plan["a"].id, "user_id": self.spare.id, "share": 0.0}
        )

    def _health(self, env, role):
        rows = env["sales.funnel.diagnosis"].search([])
        action = rows.action_open_opportunities()
        return self._names(env["crm.lead"].with_context(**action["context"]).search(action["domain"]))

    def _role_on(self, name, env):
        return env["crm.lead.buying.role"].browse(
            self.roles_on_lead.filtered(lambda role: role.lead_id == self.lead[name]).id
        )

    # ------------------------------------------------------------ expected rows

    def _expected(self, obj, action, role):
        """What an allowed cell returns for `role`, or ... when its value is
        not a set of rows (writes, calls)."""
        visible = VISIBLE.get(role, set())
        if obj == "Funnel health" and action == "read" and role == "own":
            return {"own"}  # their own row as a salesperson: unassigned leads are in no one's row
        reads = {
            ("Leads' funnel fields", "read"): visible,
            ("Stage history", "read"): visible,
            ("Funnel report", "search_read"): visible,
            ("Funnel report", "formatted_read_group"): visible,
            ("Funnel report", "web_read_group"): visible,
            ("Funnel report", "get_funnel"): {"identify": len(visible), "needs": len(visible)},
            ("Funnel report", "get_funnel_kpis"): len(visible),
            ("Funnel chart drill-down", "call"): visible,
            ("Export wizard", "create and export"): self._expected_amounts(role) if visible else ...,
            ("Weekly mail", "content, as a team's leader"): {
                name: amount
                for name, amount in self._expected_amounts(role).items()
                if LEADS[name][0] == ("b" if role == "other_company" else "a")
            }
            if visible
            else ...,
            ("Funnel plans", "read"): {
                self.plan[company].id
                for company in ("a", "b")
                if self.company[company] in self._companies_of(role)
            },
            ("Plan lines", "read"): {
                self.plan[company].id
                for company in ("a", "b")
                if self.company[company] in self._companies_of(role)
            },
            ("Forecast by month", "read"): visible,
            ("Measured weights", "read"): {
                self.company[company].id
                for company in ("a", "b")
                if self.company[company] in self._companies_of(role)
            },
            ("Funnel health", "read"): visible,
            ("Buying roles", "read"): visible,
            ("Partner's best tier", "read"): self._best_tier(role),
            ("Partner's best tier", "search"): self.partner
            if self._best_tier(role) == "a"
            else self.partner.browse(),
        }
        return reads.get((obj, action), ...)

    def _companies_of(self, role):
        return self.user[role].company_ids

    # ------------------------------------------------------------ the test

    def test_every_cell(self):
        cells = self._cells()
        expected = expectations()
        self.assertEqual(set(cells), {(obj, action) for obj, action, _letters in CELLS}, "one try per cell")
        allowed = refused = 0
        for obj, action, _letters in CELLS:
            for role, _label in ROLES:
                want = expected[obj, action, role]
                with self.subTest(object=obj, action=action, role=role), self.env.cr.savepoint() as sp:
                    try:
                        seen = cells[obj, action](self._env(role), role)
                        self.env.flush_all()
                    except AccessError:
                        seen = REFUSED
                    finally:
                        self.env.invalidate_all()
                        sp.rollback()
                    if want:
                        self.assertIsNot(seen, REFUSED, "allowed")
                        rows = self._expected(obj, action, role)
                        if rows is not ...:
                            self.assertEqual(seen, rows, "exactly the rows that role may see")
                    else:
                        self.assertIs(seen, REFUSED, "refused")
                    allowed += want
                    refused += not want
        _logger.info(
            "access matrix: %s cells (%s objects and actions, %s roles), %s allowed, %s refused",
            allowed + refused, len(CELLS), len(ROLES), allowed, refused,
        )  # fmt: skip

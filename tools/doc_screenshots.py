"""The pictures of the docs: the main screens of the demo database, as a
salesperson and as a sales manager, in English, Simplified and Traditional
Chinese, in headless Chromium at 1440 px.

Run against the database `make run` serves (admin / admin):

    .venv/bin/python tools/doc_screenshots.py --url http://127.0.0.1:8069 --out docs/images

It installs Simplified and Traditional Chinese if needed and adds nine users
(doc_sales_en, _zh, _tw, doc_manager_en, _zh, _tw and doc_admin_en, _zh, _tw
for the settings; password = login), the salespeople in the demo's Direct
Sales team with some of its opportunities.
"""

import argparse
from pathlib import Path

import requests
from screenshot import Browser

USERS = [
    # (login, language, group, role)
    ("doc_sales_en", "en_US", "sales_team.group_sale_salesman", "sales"),
    ("doc_sales_zh", "zh_CN", "sales_team.group_sale_salesman", "sales"),
    ("doc_manager_en", "en_US", "sales_team.group_sale_manager", "manager"),
    ("doc_manager_zh", "zh_CN", "sales_team.group_sale_manager", "manager"),
    ("doc_sales_tw", "zh_TW", "sales_team.group_sale_salesman", "sales"),
    ("doc_manager_tw", "zh_TW", "sales_team.group_sale_manager", "manager"),
    # settings: a Sales administrator who administers the database
    ("doc_admin_en", "en_US", "base.group_system", "admin"),
    ("doc_admin_zh", "zh_CN", "base.group_system", "admin"),
    ("doc_admin_tw", "zh_TW", "base.group_system", "admin"),
]
LANG_SUFFIX = {"en_US": "en", "zh_CN": "zh", "zh_TW": "tw"}
# (name, roles, path, CSS to wait for, CSS to click): {team} and {lead} are
# the demo's Direct Sales team and one of its opportunities, {step} the needs
# analysis step, {plan} a plan of the team for the current quarter
SCREENS = [
    ("pipeline", ("sales", "manager"), "/odoo/action-crm.crm_case_form_view_salesteams_opportunity?active_id={team}",
     ".o_kanban_record", ()),
    ("opportunity-funnel-tab", ("sales", "manager"), "/odoo/crm/{lead}", ".o_form_view", ("a[name=funnel]",)),
    ("funnel-chart", ("sales", "manager"), "/odoo/action-sales_funnel_stages.sales_funnel_report_action",
     ".o_funnel_view", ()),
    ("team-funnel-health", ("manager",), "/odoo/action-sales_team.crm_team_action_config/{team}", ".o_form_view",
     ("a[name=funnel_health]",)),
    ("funnel-export", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_export_action",
     ".modal .o_form_view", ()),
    ("team-sales-funnel", ("manager",), "/odoo/action-sales_team.crm_team_action_config/{team}", ".o_form_view",
     ("a[name=sales_funnel]",)),
    ("funnel-steps", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_step_action", ".o_list_view", ()),
    ("forecast", ("sales", "manager"), "/odoo/action-sales_funnel_stages.sales_funnel_forecast_action",
     ".o_pivot table", ()),
    ("plan-forecast", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_plan_action/{plan}",
     ".o_form_view", ()),
    ("slippage", ("sales", "manager"), "/odoo/action-sales_funnel_stages.sales_funnel_slippage_action",
     ".o_pivot", ()),
    ("influence-funnel", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_influence_action",
     ".o_graph_renderer canvas", ()),
    ("measured-weights", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_weight_action",
     ".o_list_view", ()),
    ("funnel-step-form", ("manager",), "/odoo/action-sales_funnel_stages.sales_funnel_step_action/{step}",
     ".o_form_view", ()),
    ("stage-mapping", ("manager",), "/odoo/action-sales_funnel_stages.crm_stage_action_funnel_mapping",
     ".o_list_view", ()),
    ("funnel-settings", ("admin",), "/odoo/settings#crm", "#funnel_tier_thresholds",
     ("scroll:h2:has(+ .o_settings_container > #funnel_tier_thresholds)",)),
]  # fmt: skip


class Odoo:
    """JSON-RPC as the administrator."""

    def __init__(self, url, db):
        self.url = url
        self.session = requests.Session()
        self.rpc("/web/session/authenticate", {"db": db, "login": "admin", "password": "admin"})

    def rpc(self, path, params):
        response = self.session.post(
            f"{self.url}{path}", json={"jsonrpc": "2.0", "params": params}, timeout=600
        )
        body = response.json()
        if "error" in body:
            raise SystemExit(body["error"]["data"]["message"])
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            "/web/dataset/call_kw", {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [row] = self.call(
            "ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"]
        )
        return row["res_id"]


def prepare(odoo):
    """Chinese installed, the users there; the team and {login: opportunity} ids."""
    zh = odoo.call("res.lang", "search", [("code", "in", ["zh_CN", "zh_TW"])], context={"active_test": False})
    wizard = odoo.call("base.language.install", "create", {"lang_ids": [(6, 0, zh)]})
    odoo.call("base.language.install", "lang_install", [wizard])
    team = odoo.ref("sales_funnel_stages.demo_team_direct")
    for login, lang, group, role in USERS:
        [user] = odoo.call("res.users", "search", [("login", "=", login)]) or [None]
        if not user:
            user = odoo.call(
                "res.users",
                "create",
                {"name": login.replace("_", " ").title(), "login": login, "password": login, "lang": lang,
                 "group_ids": [(4, odoo.ref(group)), (4, odoo.ref("sales_team.group_sale_manager"))]
                 if role == "admin" else [(4, odoo.ref(group))]},
            )  # fmt: skip
        every = {"active_test": False}  # every kind of deal, the lost (archived) ones included
        if role == "sales" and not odoo.call(
            "crm.lead", "search", [("user_id", "=", user)], limit=1, context=every
        ):
            odoo.call("crm.team", "write", [team], {"member_ids": [(4, user)]})
            leads = odoo.call(
                "crm.lead",
                "search",
                [("team_id", "=", team), ("user_id.login", "not like", "doc_%")],
                limit=150,
                context=every,
            )
            odoo.call("crm.lead", "write", leads, {"user_id": user})
    # an open opportunity each: the salesperson's own, the first one's for the managers
    leads = {}
    for login, _lang, _group, role in USERS:
        owner = login if role == "sales" else USERS[0][0]
        leads[login] = odoo.call(
            "crm.lead", "search", [("user_id.login", "=", owner), ("probability", "<", 100)], limit=1
        )[0]
    return team, leads


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="sales_funnel")
    parser.add_argument("--out", default="docs/images")
    parser.add_argument("--only", nargs="*", help="these screens only (their names above)")
    args = parser.parse_args()
    odoo = Odoo(args.url, args.db)
    team, leads = prepare(odoo)
    step = odoo.ref("sales_funnel_stages.sales_funnel_step_needs")
    plan = odoo.call("sales.funnel.plan", "search", [("team_id", "=", team)], limit=1) or [
        odoo.call("sales.funnel.plan", "create", {"team_id": team, "target_amount": 600000.0})
    ]
    browser = Browser(1440, 900)
    try:
        for login, lang, _group, role in USERS:
            browser.login(args.url, login, login, args.db)
            for name, roles, path, wait, clicks in SCREENS:
                if role in roles and (not args.only or name in args.only):
                    out = Path(args.out) / f"{name}-{role}_{LANG_SUFFIX[lang]}.png"
                    browser.shoot(
                        args.url + path.format(team=team, lead=leads[login], step=step, plan=plan[0]),
                        wait,
                        out,
                        clicks,
                    )
                    print(out)
    finally:
        browser.close()


if __name__ == "__main__":
    main()

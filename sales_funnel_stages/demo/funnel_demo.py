"""Demo data: eighteen months of two teams' funnel, as a database that had
crm for a while before the addon would hold it.

A seeded simulation (`simulate`, pure Python) decides week by week what
each opportunity does; `generate` then writes its outcome as crm would have
left it (the leads as they are now, and crm's tracking of every stage and
won/lost change, dated), and the funnel history comes from that tracking
through the build that an install on an existing database runs
(`sales.funnel.build`). Nothing here registers a model: the install hook
calls it when demo data is installed.

The teams differ, each step converts differently (solution design is the
weak one), the year has seasons and a few lumpy months, and some deals go
back a step, are restored after a loss or reopened after a win.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from odoo import Command, fields

XMLID = "sales_funnel_stages.demo_{}"
STEPS = ["identify", "needs", "solution", "proposal", "negotiation", "after_sales"]
# Each week an open opportunity may (advance, go back, be lost); advancing
# from negotiation & signing is the win. Solution design is the bottleneck.
WEEKLY = {
    "identify": (0.30, 0.00, 0.10),
    "needs": (0.26, 0.02, 0.06),
    "solution": (0.11, 0.05, 0.08),
    "proposal": (0.22, 0.05, 0.05),
    "negotiation": (0.27, 0.04, 0.05),
}
# Key accounts move slower and lose less than direct sales.
TEAMS = [
    ("direct", "Direct Sales", 1.0, 1.0, 0.35),
    ("key_accounts", "Key Accounts", 0.75, 0.7, 0.65),
]  # (xmlid, name, pace, losses, share of Chinese-speaking customers)
# new opportunities per month (January to December): Chinese New Year,
# summer, the autumn trade fairs
SEASON = [0.55, 0.7, 1.1, 1.15, 1.1, 1.0, 0.8, 0.75, 1.25, 1.3, 1.15, 0.9]
PER_WEEK = 26
# Deal sizes of the funnel method (section 3): 56.5 % below 10,000, 27.8 %
# from 10,000 to 30,000, 11 % from 30,000 to 50,000, 4.6 % above.
SIZE_MIX = [(0.565, 2000, 10000), (0.278, 10000, 30000), (0.11, 30000, 50000), (0.047, 50000, 150000)]
RESTORE, REOPEN = 0.03, 0.01  # weekly, for a few weeks after a loss or a win

COMPANIES_EN = [
    "Northwind Logistics", "Bluewater Foods", "Redwood Machinery", "Summit Pharma", "Harbor Textiles",
    "Silverline Electronics", "Granite Building Supply", "Evergreen Retail", "Crescent Energy", "Pioneer Tools",
    "Oakridge Packaging", "Lakeside Hotels", "Brightpath Schools", "Ironbridge Metals", "Meadow Dairy",
    "Falcon Aviation Parts", "Coastal Freight", "Vertex Medical", "Maple Furniture", "Atlas Engineering",
    "Riverbend Wines", "Kestrel Security", "Orchid Cosmetics", "Titan Automotive", "Sterling Insurance",
]  # fmt: skip
COMPANIES_ZH = [
    "上海华东精密机械有限公司", "深圳云启科技有限公司", "杭州恒通物流有限公司", "苏州鼎盛电子有限公司",
    "成都瑞丰食品有限公司", "武汉宏达建材有限公司", "青岛海纳医药有限公司", "南京新纪元教育科技有限公司",
    "广州锦程纺织有限公司", "天津远航汽车配件有限公司", "厦门鹭岛酒店管理有限公司", "宁波东方包装有限公司",
    "西安秦川能源有限公司", "长沙湘江家具有限公司", "重庆山城冷链物流有限公司", "合肥科大智能设备有限公司",
    "北京中关村数据服务有限公司", "无锡太湖新材料有限公司", "佛山南海五金制品有限公司", "郑州中原农业发展有限公司",
]  # fmt: skip
NEEDS_EN = [
    "ERP rollout", "Warehouse scanners", "CRM licences", "Maintenance contract", "Production line upgrade",
    "Cloud migration", "Point-of-sale terminals", "Fleet tracking", "Training programme", "Quality inspection system",
]  # fmt: skip
NEEDS_ZH = [
    "ERP 实施", "仓库扫码枪", "CRM 许可", "年度维保合同", "产线升级", "云迁移", "门店收银终端", "车队定位",
    "员工培训项目", "质检系统",
]  # fmt: skip


@dataclass
class Deal:
    """One simulated opportunity: its changes in order, its state now."""

    number: int
    team: str
    created: datetime
    company: int
    chinese: bool
    need: int
    amount: float
    closing: int  # days from creation
    step: str = "identify"
    status: str = "pending"  # pending, won, lost
    changed: datetime = None  # of the status, while lost or won
    changes: list = field(default_factory=list)  # (date, kind, from step, to step)


def simulate(weeks=78, seed=42, today=None):
    """The deals of `weeks` weeks ending last week, and what became of them."""
    rng = random.Random(seed)
    today = today or fields.Date.today()
    start = datetime.combine(today - timedelta(weeks=weeks + 1), time(9, 0))
    # a few lumpy months: a trade fair doubles a week's new deals
    fairs = set(rng.sample(range(weeks), weeks // 12))
    deals = []
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        for deal in deals:
            _week_of(deal, rng, monday, quarter_end=_quarter_end(monday))
        count = round(
            PER_WEEK * SEASON[monday.month - 1] * (2 if week in fairs else 1) * rng.uniform(0.8, 1.2)
        )
        deals += [_new_deal(len(deals) + number, rng, monday) for number in range(1, count + 1)]
    return deals


def _quarter_end(monday):
    return monday.month in (3, 6, 9, 12) and monday.day > 14


def _day(rng, monday):
    return monday + timedelta(days=rng.randrange(5), hours=rng.randrange(9), minutes=rng.randrange(60))


def _new_deal(number, rng, monday):
    team, _name, _pace, _losses, chinese_share = rng.choice(TEAMS)
    chinese = rng.random() < chinese_share
    low, high = _size(rng.random())
    return Deal(
        number=number,
        team=team,
        created=_day(rng, monday),
        company=rng.randrange(len(COMPANIES_ZH if chinese else COMPANIES_EN)),
        chinese=chinese,
        need=rng.randrange(len(NEEDS_EN)),
        amount=round(rng.uniform(low, high), -2),
        closing=rng.randrange(30, 200),
    )


def _size(draw):
    """The bounds of a deal's amount, in the method's mix of sizes."""
    for share, low, high in SIZE_MIX:
        if draw < share:
            return low, high
        draw -= share
    return SIZE_MIX[-1][1:]


def _week_of(deal, rng, monday, quarter_end):
    day = _day(rng, monday)
    weeks_since = (monday - deal.changed).days // 7 if deal.changed else 0
    if deal.status == "lost":
        if weeks_since < 6 and rng.random() < RESTORE:
            deal.status, deal.changed = "pending", None
            deal.changes.append((day, "restored", deal.step, deal.step))
        return
    if deal.status == "won":
        if weeks_since < 8 and rng.random() < REOPEN:
            deal.status, deal.changed = "pending", None
            deal.changes.append((day, "move", "after_sales", "negotiation"))
            deal.step = "negotiation"
        return
    _team, _name, pace, losses, _share = next(team for team in TEAMS if team[0] == deal.team)
    advance, back, lose = WEEKLY[deal.step]
    advance *= pace * (1.6 if quarter_end and deal.step == "negotiation" else 1)
    lose *= losses
    draw = rng.random()
    position = STEPS.index(deal.step)
    if draw < advance:
        target = STEPS[position + 1]
        # now and then a step is skipped
        if target not in ("negotiation", "after_sales") and rng.random() < 0.05:
            target = STEPS[position + 2]
        deal.changes.append((day, "move", deal.step, target))
        deal.step = target
        if target == "after_sales":
            deal.status, deal.changed = "won", monday
    elif draw < advance + back:
        deal.changes.append((day, "move", deal.step, STEPS[position - 1]))
        deal.step = STEPS[position - 1]
    elif draw < advance + back + lose:
        deal.status, deal.changed = "lost", monday
        deal.changes.append((day, "lost", deal.step, deal.step))


def generate(env, weeks=78, seed=42):
    """Write the simulated deals as crm would have: teams, customers, the
    opportunities as they are now, and crm's tracking of their past. Done
    once: a reinstall finds the demo there (or deleted with the module's
    other demo records) and does not double it."""
    if env.ref(XMLID.format("team_direct"), raise_if_not_found=False):
        return
    env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True))
    deals = simulate(weeks, seed)
    teams = _teams(env)
    partners = _partners(env)
    stages = {code: _stages_by_step(env, team) for code, team in teams.items()}
    leads = _leads(env, deals, teams, partners, stages)
    _track(env, deals, leads, stages)
    _name_records(env, "lead_{:04d}", leads, [deal.number for deal in deals])
    # the gates ask for MAN answers from now on, as a team that adopts the method would
    env["crm.team"].browse([team.id for team in teams.values()]).write(
        {"funnel_probability_mode": "stage_weight", "use_funnel_gates": True}
    )


def _teams(env):
    users = env.ref("base.user_admin") | env.ref("base.user_demo")
    teams = {}
    for code, name, *_rest in TEAMS:
        members = users if code == "direct" else users[:1]
        team = env["crm.team"].create({"name": name, "member_ids": [Command.set(members.ids)]})
        team._funnel_apply_standard_stages()
        teams[code] = team
    _name_records(env, "team_{}", list(teams.values()), list(teams))
    for code, team in teams.items():
        # the team's own stages go with it when the module is uninstalled
        own = env["crm.stage"].search([("team_ids", "=", team.id)])
        _name_records(env, f"stage_{code}_{{}}", list(own), own.mapped("funnel_step_id.code"))
    return teams


def _partners(env):
    names = {"en": COMPANIES_EN, "zh": COMPANIES_ZH}
    china = env.ref("base.cn")
    partners = {}
    for lang, companies in names.items():
        partners[lang] = env["res.partner"].create(
            [
                {"name": name, "is_company": True, "country_id": china.id if lang == "zh" else False}
                for name in companies
            ]
        )
        _name_records(env, f"partner_{lang}_{{:02d}}", list(partners[lang]), range(len(companies)))
    return partners


def _stages_by_step(env, team):
    """The first stage of each step in the team's pipeline."""
    stages = {}
    for stage in env["crm.stage"]._funnel_pipeline(team):
        stages.setdefault(stage.funnel_step_id.code, stage)
    return stages


def _leads(env, deals, teams, partners, stages):
    """The opportunities as they are now: created in one batch, then given
    crm's dates of their past, which crm's own views read."""
    reasons = env["crm.lost.reason"].search([])
    rng = random.Random(len(deals))
    values = []
    for deal in deals:
        team = teams[deal.team]
        partner = partners["zh" if deal.chinese else "en"][deal.company]
        need = (NEEDS_ZH if deal.chinese else NEEDS_EN)[deal.need]
        values.append(
            {
                "name": f"{need} · {partner.name}",
                "type": "opportunity",
                "team_id": team.id,
                "user_id": rng.choice(team.member_ids).id,
                "partner_id": partner.id,
                "stage_id": stages[deal.team][deal.step].id,
                "expected_revenue": deal.amount,
                "date_deadline": (deal.created + timedelta(days=deal.closing)).date(),
                # a deal past needs analysis has its need confirmed, one past
                # solution design its decision maker known
                "man_need": "yes" if STEPS.index(deal.step) > 1 else rng.choice(["unknown", "yes"]),
                "man_authority": "yes"
                if STEPS.index(deal.step) > 2
                else rng.choice(["unknown", "no", "yes"]),
                "man_money": rng.choice(["unknown", "yes", "yes", "no"]),
            }
        )
        if deal.status == "lost":
            values[-1].update(active=False, probability=0, lost_reason_id=rng.choice(reasons).id)
    leads = env["crm.lead"].create(values)
    env.flush_all()
    # their past is crm's tracking, as for any lead from before the install:
    # the history the creation just recorded goes, the build writes it
    env.cr.execute("DELETE FROM sales_funnel_lead_step WHERE lead_id = ANY(%s)", [leads.ids])
    env.cr.execute("DELETE FROM sales_funnel_history WHERE lead_id = ANY(%s)", [leads.ids])
    env.cr.execute(
        """
        UPDATE crm_lead AS lead
           SET create_date = past.created, write_date = COALESCE(past.last_change, past.created),
               date_open = past.created,
               date_last_stage_update = COALESCE(past.last_move, past.created),
               date_closed = past.closed
          FROM (SELECT * FROM UNNEST(%s::int[], %s::timestamp[], %s::timestamp[], %s::timestamp[], %s::timestamp[]))
               AS past(id, created, last_change, last_move, closed)
         WHERE past.id = lead.id
        """,
        _dates(deals, leads),
    )
    env["crm.lead"].invalidate_model()
    return leads


def _dates(deals, leads):
    columns = [[], [], [], [], []]
    for deal, lead in zip(deals, leads, strict=True):
        moves = [date for date, kind, *_steps in deal.changes if kind == "move"]
        closed = deal.changes[-1][0] if deal.status != "pending" else None
        last_change = deal.changes[-1][0] if deal.changes else None
        for column, value in zip(columns, (lead.id, deal.created, last_change, moves[-1] if moves else None, closed),
                                 strict=True):  # fmt: skip
            column.append(value)
    return columns


def _track(env, deals, leads, stages):
    """crm's tracking messages of each change: the stage (with the status
    when it wins or leaves the won stage), the status of a loss or a
    restoration; one message per change, dated, by the salesperson."""
    Tracking = env["mail.tracking.value"]
    Lead = env["crm.lead"]
    info = Lead.fields_get(["stage_id", "won_status"])
    subtypes = {kind: env.ref(f"crm.mt_lead_{kind}").id for kind in ("stage", "won", "lost", "restored")}
    messages = []
    for deal, lead in zip(deals, leads, strict=True):
        status = "pending"
        for date, kind, from_step, to_step in deal.changes:
            tracking = []
            if kind == "move":
                from_stage, to_stage = (stages[deal.team][step] for step in (from_step, to_step))
                tracking.append(Tracking._create_tracking_values(from_stage, to_stage, "stage_id", info["stage_id"],
                                                                 lead))  # fmt: skip
                new_status = "won" if to_step == "after_sales" else "pending"
                subtype = "won" if new_status == "won" else "stage"
            else:
                new_status = "lost" if kind == "lost" else "pending"
                subtype = kind
            if new_status != status:
                tracking.append(
                    Tracking._create_tracking_values(
                        status, new_status, "won_status", info["won_status"], lead
                    )
                )
                status = new_status
            messages.append(
                {
                    "model": "crm.lead",
                    "res_id": lead.id,
                    "message_type": "notification",
                    "subtype_id": subtypes[subtype],
                    "author_id": lead.user_id.partner_id.id,
                    "date": date,
                    "tracking_value_ids": [Command.create(value) for value in tracking],
                }
            )
    env["mail.message"].create(messages)


def _name_records(env, pattern, records, keys):
    env["ir.model.data"]._update_xmlids(
        [
            {"xml_id": XMLID.format(pattern.format(key)), "record": record, "noupdate": True}
            for key, record in zip(keys, records, strict=True)
        ]
    )

import random
from collections import defaultdict
from datetime import datetime, time, timedelta

from odoo import api, fields, models

# Deal sizes of the funnel method (section 3): 56.5 % below 10,000, 27.8 %
# from 10,000 to 30,000, 11 % from 30,000 to 50,000, 4.6 % above.
SIZE_MIX = [(0.565, 2000, 10000), (0.278, 10000, 30000), (0.11, 30000, 50000), (0.047, 50000, 150000)]
# Each week an open opportunity may leave its step: (advance, regress, lost)
# chances per step code; won comes from negotiation & signing.
WEEKLY_MOVES = {
    "identify": (0.30, 0.00, 0.08),
    "needs": (0.25, 0.03, 0.06),
    "solution": (0.22, 0.05, 0.05),
    "proposal": (0.20, 0.06, 0.05),
    "negotiation": (0.25, 0.05, 0.04),
}


class SalesFunnelDemo(models.AbstractModel):
    """Demo data: a living funnel of about 2,000 opportunities over 18 months
    in two teams, moved week by week through the same code paths users take
    (`write` of the stage, `action_set_lost`, MAN answers before the gates),
    each move dated with the `funnel_event_date` context key."""

    _name = "sales.funnel.demo"
    _description = "Sales Funnel Demo Data"

    @api.model
    def _generate(self, weeks=78, per_week=26, seed=42):
        # Demo data loads before the install hook: map the stages first (the
        # hook maps only what is left). Chatter tracking is left out: the
        # funnel history is what this data is for, and it is recorded.
        self.env["crm.stage"]._funnel_setup_stages()
        quiet = self.with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        quiet._demo_run(weeks, per_week, random.Random(seed))

    @api.model
    def _demo_run(self, weeks, per_week, rng):
        teams = self._demo_teams()
        stages = {team: self._demo_stages(team) for team in teams}
        salespeople = {team: team.member_ids or self.env.user for team in teams}
        sources = self.env["utm.source"].search([], limit=6)
        reasons = self.env["crm.lost.reason"].search([])
        # the last week ends before today: no move is dated in the future
        start = datetime.combine(fields.Date.today() - timedelta(weeks=weeks + 1), time(9, 0))
        open_leads = self.env["crm.lead"]
        for week in range(weeks):
            monday = start + timedelta(weeks=week)
            open_leads = self._demo_move(open_leads, stages, reasons, rng, monday)
            open_leads |= self._demo_create(teams, stages, salespeople, sources, rng, per_week, monday)
        self._demo_align_dates(teams)

    @api.model
    def _demo_teams(self):
        Team = self.env["crm.team"]
        users = self.env.ref("base.user_admin") | self.env.ref("base.user_demo")
        teams = Team.search([("name", "in", ["Direct Sales", "Key Accounts"])])
        if not teams:
            teams = Team.create(
                [
                    {"name": "Direct Sales", "member_ids": [(6, 0, users.ids)]},
                    {"name": "Key Accounts", "member_ids": [(6, 0, users[:1].ids)]},
                ]
            )
        for team in teams:
            team._funnel_apply_standard_stages()
        teams.write({"funnel_probability_mode": "stage_weight", "use_funnel_gates": True})
        return teams

    @api.model
    def _demo_stages(self, team):
        """One stage per step code in the team's pipeline (the first of each)."""
        by_code = {}
        for stage in self.env["crm.stage"]._funnel_pipeline(team):
            by_code.setdefault(stage.funnel_step_id.code, stage)
        return by_code

    @api.model
    def _demo_create(self, teams, stages, salespeople, sources, rng, count, monday):
        values = []
        for number in range(count):
            team = rng.choice(teams)
            low, high = self._demo_size(rng)
            day = monday + timedelta(days=rng.randrange(5), hours=rng.randrange(8))
            values.append(
                {
                    "name": f"{team.name} opportunity {monday:%Y-%W}-{number:02d}",
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": rng.choice(salespeople[team]).id,
                    "stage_id": stages[team]["identify"].id,
                    "expected_revenue": round(rng.uniform(low, high), -2),
                    "date_deadline": (day + timedelta(days=rng.randrange(20, 200))).date(),
                    "source_id": rng.choice(sources).id if sources else False,
                    "man_money": rng.choice(["unknown", "yes", "yes", "no"]),
                    "funnel_demo_day": day,
                }
            )
        by_day = defaultdict(list)
        for value in values:
            by_day[value.pop("funnel_demo_day")].append(value)
        leads = self.env["crm.lead"]
        for day, day_values in by_day.items():
            leads |= self.env["crm.lead"].with_context(funnel_event_date=day).create(day_values)
        return leads

    @staticmethod
    def _demo_size(rng):
        draw = rng.random()
        for share, low, high in SIZE_MIX:
            if draw < share:
                return low, high
            draw -= share
        return SIZE_MIX[-1][1:]

    @api.model
    def _demo_move(self, leads, stages, reasons, rng, monday):
        """One week: each open opportunity may advance, regress or be lost;
        the moves are grouped by (target, day) and each group written once.
        Returns the opportunities still open."""
        codes = [*WEEKLY_MOVES, "after_sales"]
        moves = defaultdict(lambda: self.env["crm.lead"])
        lost = defaultdict(lambda: self.env["crm.lead"])
        # one day of the week per kind of move keeps the writes few
        days = {code: monday + timedelta(days=rng.randrange(5), hours=rng.randrange(8)) for code in codes}
        for lead in leads:
            code = lead.stage_id.funnel_step_id.code
            advance, regress, lose = WEEKLY_MOVES[code]
            draw = rng.random()
            day = days[code]
            if draw < advance:
                moves[codes[codes.index(code) + 1], day] |= lead
            elif draw < advance + regress:
                moves[codes[codes.index(code) - 1], day] |= lead
            elif draw < advance + regress + lose:
                lost[rng.choice(reasons).id if reasons else False, day] |= lead
        for (code, day), group in sorted(moves.items(), key=lambda item: item[0][1]):
            dated = group.with_context(funnel_event_date=day)
            # answer MAN before the gates ask for it, as a salesperson would
            dated.filtered(lambda lead: lead.man_need != "yes").write({"man_need": "yes"})
            if code in ("proposal", "negotiation", "after_sales"):
                dated.filtered(lambda lead: lead.man_authority != "yes").write({"man_authority": "yes"})
            for team, team_group in dated.grouped("team_id").items():
                team_group.write({"stage_id": stages[team][code].id})
        for (reason, day), group in lost.items():
            group.with_context(funnel_event_date=day).action_set_lost(lost_reason_id=reason)
        won = leads.filtered(lambda lead: lead.won_status == "won")
        return leads.filtered("active") - won

    @api.model
    def _demo_align_dates(self, teams):
        """crm's own dates follow the history, so that its views agree."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE crm_lead AS lead
               SET create_date = span.first_date,
                   date_last_stage_update = span.last_move,
                   date_closed = CASE WHEN lead.won_status <> 'pending' THEN span.last_date END
              FROM (SELECT lead_id, MIN(date) AS first_date, MAX(date) AS last_date,
                           MAX(date) FILTER (WHERE kind NOT IN ('lost', 'restored')) AS last_move
                      FROM sales_funnel_history GROUP BY lead_id) AS span
             WHERE span.lead_id = lead.id AND lead.team_id IN %s
            """,
            [tuple(teams.ids)],
        )
        self.env["crm.lead"].invalidate_model()
        self.env["sales.funnel.lead.step"]._rebuild()

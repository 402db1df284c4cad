"""The funnel health: one SQL view (per-opportunity facts, rows, totals, warning flags)
and the reading of its rows (warnings in words, lead lists, actions). The query's
parts and the warnings' words are two sides of the same thresholds; kept together."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_date, formatLang

from ..models.mail_message import LEAD_CONTACT
from ..periods import local_sql, utc_sql

# Row ids: (team + 1) * ID_STRIDE + salesperson, the salesperson being 0 on
# a team's row. Stable across queries, and far below 2**53 (the web client's
# integers) for any realistic number of teams and users.
ID_STRIDE = 1 << 24

MANAGER_GROUP = "sales_team.group_sale_manager"

# Per-opportunity facts (`_lead_facts`) that the lead lists of a row select.
LEAD_LISTS = {
    "open": "is_open",
    "small": "is_small",
    "stalled": "is_stalled",
    "disqualify": "is_man_disqualify OR is_idle",
    "won": "is_won",
    "won_no_history": "is_won_no_history",
    "won_unmet_gates": "is_won_unmet_gates",
}

# What a row sums of the facts of its opportunities (`_lead_facts`).
FACT_COUNTS = {
    "open_count": "is_open::int",
    "expected_revenue": "expected_revenue",
    "weighted_revenue": "weighted_revenue",
    "sized_count": "is_sized::int",
    "small_count": "is_small::int",
    "stalled_count": "is_stalled::int",
    "man_disqualify_count": "is_man_disqualify::int",
    "idle_count": "is_idle::int",
    "disqualify_count": "(is_man_disqualify OR is_idle)::int",
    "won_count": "is_won::int",
    "won_amount": "won_amount",
    "won_no_history_count": "is_won_no_history::int",
    "won_unmet_gates_count": "is_won_unmet_gates::int",
}


# {warning code: SQL condition on a row's totals}, against the thresholds of
# the row's company (see `_warning_messages`); in the order they are read.
WARNING_FLAGS = {
    "lumpy": SQL(
        "totals.won_amount > 0"
        " AND best.best_month_amount * 100 > company.funnel_health_lumpy_share * totals.won_amount"
    ),
    "few_open": SQL(
        "sizes.sells AND totals.open_count < company.funnel_health_min_open * sizes.member_count"
    ),
    "busy": SQL(
        "sizes.sells AND totals.activity_count > company.funnel_health_busy_ratio * totals.open_count"
        " AND totals.open_count < company.funnel_health_min_open * sizes.member_count"
    ),
    "no_small": SQL(
        "totals.sized_count > 0"
        " AND totals.small_count * 100 < company.funnel_health_small_share * totals.sized_count"
    ),
    "stalled": SQL("totals.stalled_count > 0"),
    "disqualify": SQL("totals.disqualify_count > 0"),
    "won_no_history": SQL("totals.won_no_history_count > 0"),
    "won_unmet_gates": SQL("totals.won_unmet_gates_count > 0"),
}


class SalesFunnelDiagnosis(models.Model):
    """Funnel health (funnel method, sections 2 and 8), one row per sales
    team and per salesperson of a team, computed live from the
    opportunities of the companies the user works in.

    The weighted pipeline of a row is the quota basis of the method (sum of
    the weighted revenue of the open opportunities). Each diagnosis is a
    flag whose threshold is a setting of the team's company (the current
    company for opportunities without a team). A team's row counts the
    unassigned opportunities too.

    Salespeople see their own rows, "all leads" users and managers every
    row (record rules); deals won without funnel history are for Sales
    administrators only. `_diagnose` returns the same as data, for mails.
    """

    _name = "sales.funnel.diagnosis"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Health"
    _auto = False
    _order = "team_id, level desc, weighted_revenue desc, id"
    # flushed before the view is read
    _depends = {
        "crm.lead": [
            "type", "active", "won_status", "company_id", "team_id", "user_id", "stage_id", "expected_revenue",
            "weighted_revenue", "man_class", "date_last_stage_update", "create_date", "date_closed",
        ],
        "crm.stage": ["rotting_threshold_days", "funnel_step_id", "is_won"],
        "crm.team": ["company_id", "active", "use_opportunities", "user_id"],
        "crm.team.member": ["crm_team_id", "user_id", "active"],
        "mail.activity": ["res_model", "res_id", "active", "user_id"],
        "mail.message": ["model", "res_id", "message_type", "mail_activity_type_id", "date", "author_id"],
        "res.users": ["partner_id"],
        "res.company": [
            "currency_id", "funnel_size_edge_1", "funnel_health_months", "funnel_health_lumpy_share",
            "funnel_health_min_open", "funnel_health_busy_ratio", "funnel_health_activity_days",
            "funnel_health_small_share", "funnel_health_idle_days",
        ],
        "sales.funnel.history": ["lead_id", "kind", "date", "to_stage_id"],
    }  # fmt: skip

    level = fields.Selection([("team", "Team"), ("salesperson", "Salesperson")], readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    member_count = fields.Integer(
        string="Members",
        readonly=True,
        aggregator=False,
        help="Active members of the team (1 for a salesperson).",
    )

    open_count = fields.Integer(
        string="Active Opportunities", readonly=True, help="Open opportunities: neither won nor lost."
    )
    expected_revenue = fields.Monetary(string="Open Amount", readonly=True)
    weighted_revenue = fields.Monetary(
        string="Weighted Pipeline",
        readonly=True,
        help="Quota basis: the sum of the weighted revenue (expected revenue times stage weight) of the "
        "open opportunities.",
    )
    sized_count = fields.Integer(string="With an Amount", readonly=True)
    small_count = fields.Integer(string="Small Deals", readonly=True)
    small_share = fields.Float(
        string="Small Deals (%)",
        readonly=True,
        aggregator=False,
        help="Share of the open opportunities with an amount that are small deals.",
    )
    activity_count = fields.Integer(
        string="Activities",
        readonly=True,
        help="Planned activities on opportunities, and activities done in the activity window.",
    )
    activities_per_opportunity = fields.Float(readonly=True, aggregator=False)
    stalled_count = fields.Integer(
        string="Stalled",
        readonly=True,
        help="Open opportunities past the rotting threshold of their stage.",
    )
    man_disqualify_count = fields.Integer(string="MAN m+a+n", readonly=True)
    idle_count = fields.Integer(
        string="Idle", readonly=True, help="Open opportunities without activity for long."
    )
    disqualify_count = fields.Integer(
        string="Disqualify Candidates", readonly=True, help="MAN m+a+n, or idle for longer than the setting."
    )
    won_count = fields.Integer(string="Won in Window", readonly=True)
    won_amount = fields.Monetary(string="Amount Won in Window", readonly=True)
    best_month = fields.Date(readonly=True)
    best_month_amount = fields.Monetary(readonly=True, aggregator=False)
    lumpy_share = fields.Float(
        string="Best Month Share (%)",
        readonly=True,
        aggregator=False,
        help="Share of the amount won in the closing window that fell in its best month.",
    )
    won_no_history_count = fields.Integer(
        string="Won Without Funnel History",
        readonly=True,
        groups=MANAGER_GROUP,
        help="Deals won in the closing window with no stage change before the win, or created in a won "
        "stage.",
    )

    won_unmet_gates_count = fields.Integer(
        string="Won With Unmet Gates",
        readonly=True,
        help="Deals won in the closing window while they missed what a gated step asks for (Need, "
        "Authority): winning is never refused, it is shown here.",
    )

    warn_lumpy = fields.Boolean(string="Lumpy Closing", readonly=True)
    warn_few_open = fields.Boolean(string="Few Opportunities", readonly=True)
    warn_busy = fields.Boolean(string="Busy but Empty", readonly=True)
    warn_no_small = fields.Boolean(string="No Small Deals", readonly=True)
    warn_stalled = fields.Boolean(string="Stalled Opportunities", readonly=True)
    warn_disqualify = fields.Boolean(string="To Disqualify", readonly=True)
    warn_won_no_history = fields.Boolean(string="Won Off the Funnel", readonly=True, groups=MANAGER_GROUP)
    warn_won_unmet_gates = fields.Boolean(string="Won Past the Gates", readonly=True)
    warning_count = fields.Integer(string="Warnings", readonly=True)
    # as the reader may see them: a salesperson is not told of deals won off the funnel
    warning_text = fields.Text(string="Diagnosis", compute="_compute_warning_text")
    warning_summary = fields.Char(string="Diagnosis in Short", compute="_compute_warning_text")
    warning_shown_count = fields.Integer(string="Warnings Shown", compute="_compute_warning_text")

    # ------------------------------------------------------------ SQL

    @api.model
    def _lead_facts(self, teams=None):
        """One row per opportunity the diagnosis looks at (open ones, and
        those won in the closing window) in the user's companies, of
        `teams` (ids, 0 for no team; None: all), with what each diagnosis
        counts. The thresholds are those of the team's company; stalled is
        crm's own rotting rule (days in the stage past the stage's rotting
        threshold)."""
        # amounts are summed in the currency of the row's company, at the
        # rates Odoo's currency-aware sums use
        currencies = self.env["res.company"].sudo().search([]).currency_id
        rates = currencies._get_rates(self.env.company, fields.Date.context_today(self))
        return SQL(
            """
            WITH rates(currency_id, rate) AS (VALUES %(rates)s),
            settings AS (
                SELECT company.id AS company_id,
                       COALESCE(company.funnel_size_edge_1, 0) AS small_below,
                       -- the closing window starts on the first of a month where the reader is
                       %(won_since)s AS won_since,
                       %(now)s::timestamp - make_interval(days => COALESCE(company.funnel_health_idle_days, 0))
                           AS idle_before
                  FROM res_company AS company
            )
            SELECT lead.id, lead.team_id, lead.user_id, settings.company_id, stage.funnel_step_id AS step_id,
                   state.is_open,
                   CASE WHEN state.is_open THEN COALESCE(lead.expected_revenue, 0) * conversion.factor ELSE 0 END
                       AS expected_revenue,
                   CASE WHEN state.is_open THEN COALESCE(lead.weighted_revenue, 0) * conversion.factor ELSE 0 END
                       AS weighted_revenue,
                   state.is_open AND lead.expected_revenue > 0 AS is_sized,
                   state.is_open AND lead.expected_revenue > 0
                       AND lead.expected_revenue < settings.small_below AS is_small,
                   state.is_open AND COALESCE(stage.rotting_threshold_days, 0) > 0
                       AND COALESCE(lead.date_last_stage_update, lead.create_date)
                           + make_interval(days => stage.rotting_threshold_days) < %(now)s AS is_stalled,
                   state.is_open AND lead.man_class = 'nnn' AS is_man_disqualify,
                   state.is_open
                       AND NOT EXISTS (SELECT 1 FROM mail_activity AS activity
                                        WHERE activity.res_model = 'crm.lead' AND activity.res_id = lead.id
                                          AND activity.active)
                       AND GREATEST(COALESCE(lead.date_last_stage_update, lead.create_date),
                                    (SELECT MAX(contact.date) FROM mail_message AS contact
                                      WHERE contact.res_id = lead.id AND %(lead_contact)s))
                           < settings.idle_before AS is_idle,
                   NOT state.is_open AS is_won,
                   CASE WHEN state.is_open THEN 0 ELSE COALESCE(lead.expected_revenue, 0) * conversion.factor END
                       AS won_amount,
                   CASE WHEN NOT state.is_open THEN date_trunc('month', %(local_closed)s) END AS won_month,
                   NOT state.is_open AND NOT EXISTS (
                       SELECT 1 FROM sales_funnel_history AS move
                        WHERE move.lead_id = lead.id AND move.kind IN ('advance', 'skip', 'lateral', 'regress')
                          AND move.date < COALESCE(
                              (SELECT MIN(win.date) FROM sales_funnel_history AS win
                                 LEFT JOIN crm_stage AS won_stage ON won_stage.id = win.to_stage_id
                                WHERE win.lead_id = lead.id
                                  AND (win.kind = 'won' OR (win.kind = 'enter' AND won_stage.is_won))),
                              'infinity')
                   ) AS is_won_no_history,
                   NOT state.is_open AND EXISTS (
                       SELECT 1 FROM sales_funnel_history AS win
                        WHERE win.lead_id = lead.id AND win.kind = 'won' AND win.gates_unmet
                   ) AS is_won_unmet_gates
              FROM crm_lead AS lead
              LEFT JOIN crm_team AS team ON team.id = lead.team_id
              JOIN settings ON settings.company_id = COALESCE(team.company_id, %(company)s)
              JOIN res_company AS row_company ON row_company.id = settings.company_id
              LEFT JOIN res_company AS lead_company ON lead_company.id = lead.company_id
              LEFT JOIN rates AS row_rate ON row_rate.currency_id = row_company.currency_id
              LEFT JOIN rates AS lead_rate
                     ON lead_rate.currency_id = COALESCE(lead_company.currency_id, row_company.currency_id)
             -- from the lead's company currency to the row's
             CROSS JOIN LATERAL (SELECT COALESCE(row_rate.rate, 1.0) / COALESCE(lead_rate.rate, 1.0) AS factor)
                   AS conversion
              LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
             CROSS JOIN LATERAL (SELECT lead.active AND lead.won_status = 'pending' AS is_open) AS state
             WHERE lead.type = 'opportunity'
               AND (lead.company_id IS NULL OR lead.company_id IN %(companies)s)
               AND (state.is_open OR (lead.won_status = 'won' AND lead.date_closed >= settings.won_since))
               AND %(of_teams)s
            """,
            rates=SQL(", ").join(
                SQL("(%s, %s::float)", currency_id, rate) for currency_id, rate in rates.items()
            ),
            now=fields.Datetime.now(),
            won_since=utc_sql(
                self.env,
                SQL(
                    "date_trunc('month', %s) - make_interval(months => GREATEST(company.funnel_health_months, 1) - 1)",
                    local_sql(self.env, SQL("%s::timestamp", fields.Datetime.now())),
                ),
            ),
            local_closed=local_sql(self.env, SQL("lead.date_closed")),
            company=self.env.company.id,
            companies=tuple(self.env.companies.ids),
            of_teams=self._of_teams(SQL("lead.team_id"), teams),
            # as worded in the index made for it
            lead_contact=SQL(LEAD_CONTACT),  # pylint: disable=sql-injection
        )

    @api.model
    def _activity_facts(self, teams=None):
        """One row per activity that makes a salesperson busy: planned on
        an opportunity or lead, or done there in the activity window, under
        the team of that lead (of `teams`, as in `_lead_facts`)."""
        return SQL(
            """
            WITH settings AS (
                SELECT company.id AS company_id,
                       %(now)s::timestamp - make_interval(days => COALESCE(company.funnel_health_activity_days, 0))
                           AS activity_since
                  FROM res_company AS company
            ), leads AS (
                SELECT lead.id, lead.team_id, settings.company_id, settings.activity_since
                  FROM crm_lead AS lead
                  LEFT JOIN crm_team AS team ON team.id = lead.team_id
                  JOIN settings ON settings.company_id = COALESCE(team.company_id, %(company)s)
                 WHERE (lead.company_id IS NULL OR lead.company_id IN %(companies)s) AND %(of_teams)s
            )
            SELECT leads.team_id, activity.user_id, leads.company_id
              FROM mail_activity AS activity
              JOIN leads ON leads.id = activity.res_id
             WHERE activity.res_model = 'crm.lead' AND activity.active AND activity.user_id IS NOT NULL
            UNION ALL
            SELECT leads.team_id, author.id, leads.company_id
              FROM mail_message AS message
              JOIN leads ON leads.id = message.res_id
              JOIN res_users AS author ON author.partner_id = message.author_id
             WHERE message.model = 'crm.lead' AND message.mail_activity_type_id IS NOT NULL
               AND message.date >= leads.activity_since
            """,
            now=fields.Datetime.now(),
            company=self.env.company.id,
            companies=tuple(self.env.companies.ids),
            of_teams=self._of_teams(SQL("lead.team_id"), teams),
        )

    @api.model
    def _of_teams(self, team_column, teams):
        """SQL: `team_column` is one of `teams` (0 for none); None: any."""
        if teams is None:
            return SQL("TRUE")
        condition = SQL("%s IN %s", team_column, tuple(teams) or (0,))
        if 0 in teams:
            condition = SQL("(%s OR %s IS NULL)", condition, team_column)
        return condition

    def _scope_teams(self):
        """The teams whose rows are wanted, from the context
        (`funnel_team_ids`: a team's form, its weekly mail); None: every
        team. The diagnosis of a team reads that team's opportunities only,
        not those of the whole company."""
        teams = self.env.context.get("funnel_team_ids")
        if teams is None:
            return None
        if not isinstance(teams, (list, tuple)) or not all(
            isinstance(team, int) and not isinstance(team, bool) for team in teams
        ):
            raise UserError(
                self.env._(
                    "The funnel health can only be scoped by a list of sales team ids (funnel_team_ids)."
                )
            )
        return set(teams)

    @property
    def _table_query(self):
        return SQL(
            "WITH %s SELECT diagnosis.*, %s AS warning_count FROM (SELECT %s FROM %s) AS diagnosis",
            self._with(self._scope_teams()),
            SQL(" + ").join(
                SQL("diagnosis.%s::int", SQL.identifier(f"warn_{code}")) for code in WARNING_FLAGS
            ),
            self._select(),
            self._from(),
        )

    def _with(self, teams):
        """The opportunities' facts (`_lead_facts`) and activities, per row
        (`rows`: every team and member has one, with nothing too), summed
        per salesperson of a team and per team (`totals`), and the best
        closing month of each (`best`)."""
        counts = SQL(", ").join(
            SQL("%s AS %s", SQL(count), SQL.identifier(name)) for name, count in FACT_COUNTS.items()
        )
        zeros = SQL(", ").join(SQL("0 AS %s", SQL.identifier(name)) for name in FACT_COUNTS)
        sums = SQL(", ").join(
            SQL("SUM(%s) AS %s", SQL.identifier(name), SQL.identifier(name)) for name in FACT_COUNTS
        )
        return SQL(
            """
            facts AS MATERIALIZED (%(facts)s),
            teams AS (
                SELECT team.id AS team_id, COALESCE(team.company_id, %(company)s) AS company_id
                  FROM crm_team AS team
                 WHERE team.active AND team.use_opportunities
                   AND (team.company_id IS NULL OR team.company_id IN %(companies)s) AND %(of_teams)s
            ), members AS (
                SELECT member.crm_team_id AS team_id, COUNT(*) AS member_count
                  FROM crm_team_member AS member
                  JOIN teams ON teams.team_id = member.crm_team_id
                 WHERE member.active
                 GROUP BY member.crm_team_id
            ), rows AS (
                SELECT team_id, user_id, company_id, %(counts)s, 0 AS activity_count
                  FROM facts
                UNION ALL
                SELECT team_id, user_id, company_id, %(zeros)s, 1
                  FROM (%(activities)s) AS activities
                UNION ALL
                -- every member has a row, with no opportunity at all too
                SELECT member.crm_team_id, member.user_id, teams.company_id, %(zeros)s, 0
                  FROM crm_team_member AS member
                  JOIN teams ON teams.team_id = member.crm_team_id
                 WHERE member.active
                UNION ALL
                SELECT team_id, NULL, company_id, %(zeros)s, 0
                  FROM teams
            ), totals AS (
                SELECT company_id, team_id, user_id, GROUPING(user_id) = 1 AS is_team, %(sums)s,
                       SUM(activity_count) AS activity_count
                  FROM rows
                 GROUP BY GROUPING SETS ((company_id, team_id, user_id), (company_id, team_id))
            ), monthly AS (
                SELECT team_id, user_id, GROUPING(user_id) = 1 AS is_team, won_month, SUM(won_amount) AS amount
                  FROM facts
                 WHERE is_won
                 GROUP BY GROUPING SETS ((team_id, user_id, won_month), (team_id, won_month))
            ), best AS (
                SELECT DISTINCT ON (team_id, user_id, is_team)
                       team_id, user_id, is_team, won_month AS best_month, amount AS best_month_amount
                  FROM monthly
                 ORDER BY team_id, user_id, is_team, amount DESC, won_month
            )
            """,
            facts=self._lead_facts(teams),
            activities=self._activity_facts(teams),
            of_teams=self._of_teams(SQL("team.id"), teams),
            counts=counts,
            zeros=zeros,
            sums=sums,
            company=self.env.company.id,
            companies=tuple(self.env.companies.ids),
        )

    def _select(self):
        """A row's figures, then its warnings (`WARNING_FLAGS`)."""
        return SQL(
            """
            (COALESCE(totals.team_id, 0) + 1)::bigint * %(stride)s
                + CASE WHEN totals.is_team THEN 0 ELSE totals.user_id END AS id,
            CASE WHEN totals.is_team THEN 'team' ELSE 'salesperson' END AS level,
            totals.team_id,
            CASE WHEN totals.is_team THEN NULL ELSE totals.user_id END AS user_id,
            totals.company_id, company.currency_id,
            sizes.member_count,
            totals.open_count, totals.expected_revenue, totals.weighted_revenue,
            totals.sized_count, totals.small_count,
            CASE WHEN totals.sized_count > 0
                 THEN 100.0 * totals.small_count / totals.sized_count ELSE 0 END AS small_share,
            totals.activity_count,
            totals.activity_count::float / GREATEST(totals.open_count, 1) AS activities_per_opportunity,
            totals.stalled_count, totals.man_disqualify_count, totals.idle_count, totals.disqualify_count,
            totals.won_count, totals.won_amount,
            best.best_month::date AS best_month, COALESCE(best.best_month_amount, 0) AS best_month_amount,
            CASE WHEN totals.won_amount > 0
                 THEN 100.0 * best.best_month_amount / totals.won_amount ELSE 0 END AS lumpy_share,
            totals.won_no_history_count, totals.won_unmet_gates_count,
            %(flags)s
            """,
            stride=ID_STRIDE,
            flags=SQL(", ").join(
                SQL("%s AS %s", condition, SQL.identifier(f"warn_{code}"))
                for code, condition in WARNING_FLAGS.items()
            ),
        )

    def _from(self):
        return SQL(
            """
            totals
            JOIN res_company AS company ON company.id = totals.company_id
            LEFT JOIN members ON members.team_id = totals.team_id AND totals.is_team
            LEFT JOIN best ON best.team_id IS NOT DISTINCT FROM totals.team_id
                          AND best.user_id IS NOT DISTINCT FROM totals.user_id
                          AND best.is_team = totals.is_team
            LEFT JOIN crm_team AS team ON team.id = totals.team_id
            -- a team leader without opportunities of their own leads, and is not told they have too few
            CROSS JOIN LATERAL (SELECT GREATEST(COALESCE(members.member_count, 0), 1) AS member_count,
                                       totals.is_team OR totals.open_count > 0
                                           OR team.user_id IS DISTINCT FROM totals.user_id AS sells) AS sizes
            WHERE totals.is_team OR totals.user_id IS NOT NULL
            """
        )

    # ------------------------------------------------------------ rows

    @api.depends("level", "team_id", "user_id")
    @api.depends_context("funnel_diagnosis_of_team")
    def _compute_display_name(self):
        # on a team's form the team goes without saying: its salespeople by their name
        of_team = self.env.context.get("funnel_diagnosis_of_team")
        for row in self:
            team = row.team_id.name or self.env._("No team")
            if row.level == "team":
                row.display_name = team
            else:
                row.display_name = row.user_id.name if of_team else f"{team} / {row.user_id.name}"

    def _compute_warning_text(self):
        warnings = self._warnings()
        for row in self:
            shown = warnings.get(row.id, [])
            row.warning_text = "\n".join(warning["message"] for warning in shown) or False
            row.warning_summary = " · ".join(warning["label"] for warning in shown) or False
            row.warning_shown_count = len(shown)

    @api.model
    def _show_restricted(self):
        return self.env.user.has_group(MANAGER_GROUP)

    @api.model
    def _flush_sources(self):
        """Pending changes of what the diagnosis reads, written to the database."""
        for model, field_names in self._depends.items():
            self.env[model].flush_model(field_names)

    def _row_keys(self):
        """{(team id or 0, salesperson id or 0): row} (0: a team's row)."""
        return {
            (row.team_id.id or 0, row.user_id.id if row.level == "salesperson" else 0): row for row in self
        }

    def _stalled_by_step(self):
        """{row id: [(step, count)]}: the rows' stalled opportunities by funnel step."""
        if not self:
            return {}
        keys = self._row_keys()
        self._flush_sources()
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(team_id, 0), CASE WHEN GROUPING(user_id) = 1 THEN 0 ELSE user_id END,
                       step_id, COUNT(*)
                  FROM (%(facts)s) AS facts
                 WHERE is_stalled
                 GROUP BY GROUPING SETS ((team_id, user_id, step_id), (team_id, step_id))
                """,
                facts=self._lead_facts({team for team, _user in keys}),
            )
        )
        steps = self.env["sales.funnel.step"]
        result = {}
        for team, user, step_id, count in self.env.cr.fetchall():
            row = keys.get((team, user or 0))
            if row and user is not None:
                result.setdefault(row.id, []).append((steps.browse(step_id), count))
        for lines in result.values():
            lines.sort(key=lambda line: (line[0].sequence, line[0].id))
        return result

    def _lead_ids(self, kind):
        """Ids of the opportunities of the rows behind a count (`LEAD_LISTS`)."""
        keys = self._row_keys()
        conditions = [
            SQL("COALESCE(team_id, 0) = %s", team)
            if not user
            else SQL("(COALESCE(team_id, 0) = %s AND user_id = %s)", team, user)
            for team, user in keys
        ]
        if not conditions:
            return []
        self._flush_sources()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM (%s) AS facts WHERE (%s) AND (%s) ORDER BY id",
                self._lead_facts({team for team, _user in keys}),
                SQL(LEAD_LISTS[kind]),
                SQL(" OR ").join(conditions),
            )
        )
        return [lead_id for (lead_id,) in self.env.cr.fetchall()]

    def _warnings(self, show_restricted=None):
        """{row id: [{"code", "label", "message"}]}: the diagnoses of the rows
        (`_warning_messages`, those whose `warn_<code>` flag is set), in the
        user's language, each naming its figure and its threshold; deals won
        off the funnel for a reader who may see them."""
        if show_restricted is None:
            show_restricted = self._show_restricted()
        stalled = self._stalled_by_step() if any(row.warn_stalled for row in self) else {}
        # the short name of each warning: its flag's label
        labels = {
            name[len("warn_") :]: field.get_description(self.env, ["string"])["string"]
            for name, field in self._fields.items()
            if name.startswith("warn_")
        }
        result = {}
        for row in self:
            flags = row.sudo() if show_restricted else row
            result[row.id] = [
                {"code": code, "label": labels[code], "message": message()}
                for code, message in row._warning_messages(stalled.get(row.id, []))
                if (code != "won_no_history" or show_restricted) and flags[f"warn_{code}"]
            ]
        return result

    def _warning_messages(self, stalled_steps):
        """[(code, message)] of every warning a row may carry, in the order
        they are read; the messages are made only for the warnings shown."""
        row, company = self, self.company_id

        def percent(value):
            return f"{formatLang(self.env, value, digits=1)} %"

        def money(value):
            return formatLang(self.env, value, currency_obj=row.currency_id)

        return [
            ("lumpy", lambda: self.env._(
                "Lumpy closing: %(share)s of the %(amount)s won in the last %(months)s months fell in %(month)s "
                "(more than %(threshold)s).",
                share=percent(row.lumpy_share),
                amount=money(row.won_amount),
                months=company.funnel_health_months,
                month=format_date(self.env, row.best_month, date_format="MMMM y"),
                threshold=percent(company.funnel_health_lumpy_share),
            )),
            ("few_open", lambda: self.env._(
                "Active opportunities: %(count)s, below the minimum of %(minimum)s.",
                count=row.open_count,
                minimum=company.funnel_health_min_open * row.member_count,
            )),
            ("busy", lambda: self.env._(
                "Busy but empty: activities %(activities)s, active opportunities %(count)s (more than %(ratio)s "
                "activities per opportunity).",
                activities=row.activity_count,
                count=row.open_count,
                ratio=formatLang(self.env, company.funnel_health_busy_ratio, digits=1),
            )),
            ("no_small", lambda: self.env._(
                "No small deals: %(share)s of the active opportunities are below %(edge)s (minimum %(threshold)s).",
                share=percent(row.small_share),
                edge=money(company.funnel_size_edge_1),
                threshold=percent(company.funnel_health_small_share),
            )),
            ("stalled", lambda: self.env._(
                "Stalled past their stage's rotting threshold: %(count)s (%(steps)s).",
                count=row.stalled_count,
                steps=", ".join(f"{step.name}: {count}" for step, count in stalled_steps),
            )),
            ("disqualify", lambda: self.env._(
                "Candidates to disqualify: %(count)s (MAN class m+a+n: %(man)s; no activity for more than "
                "%(days)s days: %(idle)s).",
                count=row.disqualify_count,
                man=row.man_disqualify_count,
                idle=row.idle_count,
                days=company.funnel_health_idle_days,
            )),
            ("won_unmet_gates", lambda: self.env._(
                "Won in the last %(months)s months with unmet stage gates (Need or Authority not confirmed): "
                "%(count)s.",
                count=row.won_unmet_gates_count,
                months=company.funnel_health_months,
            )),
            ("won_no_history", lambda: self.env._(
                "Won in the last %(months)s months without funnel history (no stage change before the win): "
                "%(count)s.",
                count=row.sudo().won_no_history_count,
                months=company.funnel_health_months,
            )),
        ]  # fmt: skip

    # ------------------------------------------------------------ API

    @api.model
    def _diagnose(self, teams=None, users=None, show_restricted=None):
        """The diagnosis of `teams` (their rows and their salespeople's)
        and/or of `users` (their rows as salespeople), as the current user
        may see it (record rules): a list of dicts with the figures of each
        row, the stalled opportunities by step and the warnings. Deals won
        without funnel history are included for Sales administrators, or
        when `show_restricted` says so."""
        if show_restricted is None:
            show_restricted = self._show_restricted()
        diagnosis = self
        domain = Domain.TRUE
        if teams is not None:
            domain &= Domain("team_id", "in", teams.ids)
            diagnosis = self.with_context(funnel_team_ids=teams.ids)
        if users is not None:
            salespeople = Domain("level", "=", "salesperson") & Domain("user_id", "in", users.ids)
            domain &= (Domain("level", "=", "team") | salespeople) if teams is not None else salespeople
        rows = diagnosis.search(domain)
        warnings = rows._warnings(show_restricted)
        stalled = rows._stalled_by_step()
        figures = [
            "open_count",
            "expected_revenue",
            "weighted_revenue",
            "sized_count",
            "small_count",
            "small_share",
            "activity_count",
            "activities_per_opportunity",
            "stalled_count",
            "man_disqualify_count",
            "idle_count",
            "disqualify_count",
            "won_count",
            "won_amount",
            "best_month",
            "best_month_amount",
            "lumpy_share",
            "won_unmet_gates_count",
        ]
        result = []
        for row in rows:
            values = {
                "id": row.id,
                "level": row.level,
                "name": row.display_name,
                "team_id": row.team_id.id,
                "team": row.team_id.name or self.env._("No team"),
                "user_id": row.user_id.id,
                "user": row.user_id.name or "",
                "company_id": row.company_id.id,
                "currency_id": row.currency_id.id,
                **{name: row[name] for name in figures},
                "stalled_by_step": [
                    {"step_id": step.id, "step_code": step.code, "step": step.name, "count": count}
                    for step, count in stalled.get(row.id, [])
                ],
                "warnings": warnings[row.id],
                "warning_count": len(warnings[row.id]),
            }
            if show_restricted:
                values["won_no_history_count"] = row.sudo().won_no_history_count
            result.append(values)
        return result

    # ------------------------------------------------------------ actions

    def _action_leads(self, kind, name):
        self.check_access("read")
        if kind == "won_no_history" and not self._show_restricted():
            raise AccessError(
                self.env._("Only Sales administrators see the deals won without funnel history.")
            )
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "crm.lead",
            "views": [(self.env.ref("crm.crm_case_tree_view_oppor").id, "list"), (False, "form")],
            "domain": [("id", "in", self._lead_ids(kind))],
            "context": {"active_test": False, "create": False},
        }

    @api.readonly
    def action_open_opportunities(self):
        return self._action_leads("open", self.env._("Active Opportunities"))

    @api.readonly
    def action_open_stalled(self):
        return self._action_leads("stalled", self.env._("Stalled Opportunities"))

    @api.readonly
    def action_open_disqualify(self):
        return self._action_leads("disqualify", self.env._("Candidates to Disqualify"))

    @api.readonly
    def action_open_won(self):
        return self._action_leads("won", self.env._("Won in the Closing Window"))

    @api.readonly
    def action_open_won_without_history(self):
        return self._action_leads("won_no_history", self.env._("Won Without Funnel History"))

    @api.readonly
    def action_open_won_unmet_gates(self):
        return self._action_leads("won_unmet_gates", self.env._("Won With Unmet Gates"))

    @api.readonly
    @api.model
    def action_open_all_won_without_history(self):
        """All the deals won without funnel history in the closing window,
        whatever their team: the list of the Reporting menu."""
        rows = self.search([("level", "=", "team")])
        return rows.action_open_won_without_history()

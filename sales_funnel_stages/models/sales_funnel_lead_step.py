from odoo import api, fields, models
from odoo.tools import SQL


class SalesFunnelLeadStep(models.Model):
    """Per-lead funnel summary: one row per funnel step a lead reached.

    Derived from the stage history (`sales.funnel.history`) by
    `_rebuild`, which runs on every recorded move and for the whole table at
    install. Reports read it instead of aggregating the raw history at query
    time; the lead's dimensions (team, salesperson, source, tier...) are
    copied here so that they group without a join on crm_lead.
    """

    _name = "sales.funnel.lead.step"
    _description = "Sales Funnel Lead Step"
    _order = "lead_id, step_sequence"
    _log_access = False

    # indexed by the unique constraint below, which starts with it
    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    step_id = fields.Many2one("sales.funnel.step", required=True, ondelete="cascade")
    step_sequence = fields.Integer()
    date_entered = fields.Datetime(help="First time the lead entered the step.")
    date_last_entered = fields.Datetime(help="Start of the lead's current stay, while it is in the step.")
    days_closed = fields.Float(help="Days spent in the step over the stays that ended.")
    is_current = fields.Boolean(help="The lead is open and in the step now.")
    is_first = fields.Boolean(help="The lead's first step in the funnel.")
    advanced = fields.Boolean(help="The lead reached a later step after entering this one.")
    regressed = fields.Boolean(help="The lead went back from this step to an earlier one.")
    lost = fields.Boolean(help="The lead is lost, and was lost while in this step.")
    won = fields.Boolean(help="The lead is won.")
    lead_open = fields.Boolean(help="The lead is neither won nor lost.")
    date_won = fields.Datetime(help="When the lead was won: its last move, into a won stage.")
    # The lead's dimensions that reports group and filter by most, and their
    # amounts; the others are read from crm_lead when asked for (see
    # `sales.funnel.report`).
    lead_type = fields.Char()
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one("res.currency")
    team_id = fields.Many2one("crm.team")
    user_id = fields.Many2one("res.users", string="Salesperson")
    customer_type = fields.Selection([("new", "New customer"), ("existing", "Existing customer")])
    expected_revenue = fields.Float()
    weighted_revenue = fields.Float()

    _lead_step_unique = models.Constraint("UNIQUE(lead_id, step_id)", "One summary row per lead and step.")
    _date_entered_idx = models.Index("(date_entered, step_sequence)")
    # Rows are stored in order of entry (see `_rebuild`), and a report's
    # period is mostly a run of pages: a BRIN index makes PostgreSQL price
    # and read it as such. Through the btree above, a year (a third of the
    # rows) costs about as much as scanning the whole table, and which of
    # the two plans wins is left to the statistics of the day. New pages are
    # summarised as they fill, not at the next vacuum.
    _date_entered_brin_idx = models.Index("USING brin (date_entered) WITH (autosummarize = on)")

    # Columns filled from crm_lead; `_rebuild` and `_refresh_dimensions` write them.
    LEAD_DIMENSIONS = {
        "lead_type": SQL("lead.type"),
        "company_id": SQL("lead.company_id"),
        "currency_id": SQL("company.currency_id"),
        "team_id": SQL("lead.team_id"),
        "user_id": SQL("lead.user_id"),
        "expected_revenue": SQL("lead.expected_revenue"),
        "weighted_revenue": SQL("lead.weighted_revenue"),
        "won": SQL("lead.won_status = 'won'"),
        "lead_open": SQL("lead.won_status = 'pending'"),
        # a customer that had won a deal before this lead was created
        "customer_type": SQL(
            "CASE WHEN first_wins.date_closed < lead.create_date THEN 'existing' ELSE 'new' END"
        ),
    }

    @api.model
    def _rebuild(self, lead_ids=None):
        """Recompute the summary rows of the given leads (all when None)
        from their stage history.

        Built from plain aggregates only (no "value at the latest date"
        aggregates, which cost more than the rest together on the millions
        of rows of an install). Each event enters its target step and leaves
        its origin step, so that per lead and step:
        - the time spent in the step over ended stays is the sum of the
          leaving dates minus the sum of the entering dates, plus the start
          of the current stay (the lead's last move, not left yet);
        - the lead advanced if it entered a later step after first entering
          this one;
        - the lead's own stage and status tell whether it is in the step
          now, or lost there; its first step is the one its creation entered.
        A stay that starts with a win, or a lost one until it is restored,
        is not time in step.
        """
        self.env.flush_all()
        # Reports read a period of entries (`date_entered`): rows stored in
        # that order make it a few contiguous pages instead of some rows on
        # every page (a third faster over a year of a million leads). Rows
        # rewritten later, as leads move, come mostly in that order; the
        # whole table is sorted once, as it is filled.
        order = SQL()
        if lead_ids is None:
            lead_filter = SQL("TRUE")
            order = SQL("ORDER BY per_step.date_entered")
            self.env.cr.execute("TRUNCATE sales_funnel_lead_step")
        else:
            lead_filter = SQL("history.lead_id IN %s", tuple(lead_ids) or (0,))
            self.env.cr.execute(
                "DELETE FROM sales_funnel_lead_step WHERE lead_id IN %s", [tuple(lead_ids) or (0,)]
            )
        positions = self.env["sales.funnel.step"].search([]).ids
        columns = list(self.LEAD_DIMENSIONS)
        self.env.cr.execute(
            SQL(
                """
                WITH steps AS (
                    SELECT step_id, position
                      FROM unnest(%(positions)s::int[]) WITH ORDINALITY AS step(step_id, position)
                ), events AS (
                    SELECT history.id, history.lead_id, history.date, history.kind,
                           -- the state the event leaves the lead in: open, lost or won
                           CASE WHEN history.kind = 'lost' THEN 1 WHEN to_stage.is_won THEN 2 ELSE 0 END AS state,
                           history.from_step_id, history.to_step_id,
                           -- float8, not EXTRACT's numeric: sums of millions of them in the aggregates
                           date_part('epoch', history.date) AS epoch,
                           COALESCE(from_stage.is_won, FALSE) AS from_won,
                           to_step.position AS to_position
                      FROM sales_funnel_history AS history
                      LEFT JOIN crm_stage AS from_stage ON from_stage.id = history.from_stage_id
                      LEFT JOIN crm_stage AS to_stage ON to_stage.id = history.to_stage_id
                      LEFT JOIN steps AS to_step ON to_step.step_id = history.to_step_id
                     WHERE %(lead_filter)s
                ), touches AS (
                    -- entering the target step (a loss enters nothing)
                    SELECT lead_id, to_step_id AS step_id, date, epoch, kind, state, TRUE AS entering
                      FROM events
                     WHERE to_step_id IS NOT NULL AND kind <> 'lost'
                    UNION ALL
                    -- leaving the origin step (restoring a lost lead leaves nothing)
                    SELECT lead_id, from_step_id, date, epoch, kind, state, FALSE
                      FROM events
                     WHERE from_step_id IS NOT NULL AND kind NOT IN ('enter', 'restored') AND NOT from_won
                ), per_step AS (
                    SELECT lead_id, step_id,
                           MIN(date) FILTER (WHERE entering) AS date_entered,
                           COALESCE(SUM(epoch) FILTER (WHERE NOT entering), 0)
                             - COALESCE(SUM(epoch) FILTER (WHERE entering AND state = 0), 0) AS seconds,
                           bool_or(NOT entering AND kind = 'regress') AS regressed,
                           MIN(epoch) FILTER (WHERE entering AND kind = 'enter') AS created_at
                      FROM touches
                     GROUP BY lead_id, step_id
                ), per_lead AS (
                    -- creation, last event, and the last entry into each step position
                    SELECT lead_id,
                           MIN(epoch) FILTER (WHERE kind = 'enter') AS created_at,
                           MAX(epoch) AS last_epoch,
                           %(last_entries)s
                      FROM events
                     GROUP BY lead_id
                ), first_wins AS (%(first_wins)s)
                INSERT INTO sales_funnel_lead_step (
                    lead_id, step_id, step_sequence, date_entered, date_last_entered, days_closed, is_current,
                    lost, advanced, regressed, is_first, date_won, %(columns)s)
                SELECT per_step.lead_id, per_step.step_id, step.sequence, per_step.date_entered,
                       CASE WHEN current_stay THEN to_timestamp(per_lead.last_epoch) AT TIME ZONE 'UTC' END,
                       (per_step.seconds + CASE WHEN current_stay THEN per_lead.last_epoch ELSE 0 END) / 86400.0,
                       current_stay,
                       in_step AND lead.won_status = 'lost',
                       COALESCE(GREATEST(%(later_entries)s) > per_step.date_entered, FALSE),
                       COALESCE(per_step.regressed, FALSE),
                       COALESCE(per_step.created_at = per_lead.created_at, FALSE),
                       CASE WHEN lead.won_status = 'won' THEN to_timestamp(per_lead.last_epoch) AT TIME ZONE 'UTC' END,
                       %(values)s
                  FROM per_step
                  JOIN per_lead ON per_lead.lead_id = per_step.lead_id
                  JOIN sales_funnel_step AS step ON step.id = per_step.step_id
                  JOIN steps AS position ON position.step_id = per_step.step_id
                  JOIN crm_lead AS lead ON lead.id = per_step.lead_id
                  LEFT JOIN crm_stage AS lead_stage ON lead_stage.id = lead.stage_id
                  LEFT JOIN res_company AS company ON company.id = lead.company_id
                  LEFT JOIN first_wins ON first_wins.partner_id = lead.partner_id
                 CROSS JOIN LATERAL (
                       -- a stage mapped onto no step holds the lead in none
                       SELECT COALESCE(lead_stage.funnel_step_id = per_step.step_id, FALSE) AS in_step) AS here
                 CROSS JOIN LATERAL (
                       SELECT in_step AND lead.won_status = 'pending' AS current_stay) AS stay
                 WHERE per_step.date_entered IS NOT NULL
                %(order)s
                """,
                order=order,
                positions=positions,
                lead_filter=lead_filter,
                first_wins=self._first_wins(lead_ids),
                last_entries=SQL(", ").join(
                    SQL(
                        "MAX(date) FILTER (WHERE to_position = %s AND kind <> 'lost') AS %s",
                        position,
                        SQL.identifier(f"entered_{position}"),
                    )
                    for position in range(1, len(positions) + 1)
                ),
                later_entries=SQL(", ").join(
                    SQL(
                        "CASE WHEN position.position < %s THEN per_lead.%s END",
                        position,
                        SQL.identifier(f"entered_{position}"),
                    )
                    for position in range(1, len(positions) + 1)
                ),
                columns=SQL(", ").join(SQL.identifier(column) for column in columns),
                values=SQL(", ").join(self.LEAD_DIMENSIONS[column] for column in columns),
            )
        )
        self.invalidate_model()

    @api.model
    def _first_wins(self, lead_ids=None):
        """Per customer (of the given leads), the date of its first won deal."""
        customers = SQL()
        if lead_ids is not None:
            customers = SQL(
                "AND partner_id IN (SELECT partner_id FROM crm_lead WHERE id IN %s)", tuple(lead_ids) or (0,)
            )
        return SQL(
            """
            SELECT partner_id, MIN(date_closed) AS date_closed
              FROM crm_lead
             WHERE won_status = 'won' AND partner_id IS NOT NULL %s
             GROUP BY partner_id
            """,
            customers,
        )

    @api.model
    def _refresh_dimensions(self, lead_ids):
        """The leads changed team, salesperson, amount...: copy it over."""
        self.env["crm.lead"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH first_wins AS (%(first_wins)s)
                UPDATE sales_funnel_lead_step AS summary
                   SET (%(columns)s) = (%(fresh_columns)s)
                  FROM (SELECT lead.id, %(values)s
                          FROM crm_lead AS lead
                          LEFT JOIN res_company AS company ON company.id = lead.company_id
                          LEFT JOIN first_wins ON first_wins.partner_id = lead.partner_id
                         WHERE lead.id IN %(leads)s) AS fresh
                 WHERE summary.lead_id = fresh.id
                """,
                first_wins=self._first_wins(lead_ids),
                columns=SQL(", ").join(SQL.identifier(column) for column in self.LEAD_DIMENSIONS),
                fresh_columns=SQL(", ").join(
                    SQL.identifier("fresh", column) for column in self.LEAD_DIMENSIONS
                ),
                values=SQL(", ").join(
                    SQL("%s AS %s", value, SQL.identifier(column))
                    for column, value in self.LEAD_DIMENSIONS.items()
                ),
                leads=tuple(lead_ids) or (0,),
            )
        )
        self.invalidate_model()

    @api.model
    def _refresh_weights(self, lead_where):
        """After crm.lead's SQL refresh of weighted revenues (for the leads
        matching `lead_where`, on alias `lead`): copy them over."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE sales_funnel_lead_step AS summary
                   SET weighted_revenue = lead.weighted_revenue
                  FROM crm_lead AS lead
                 WHERE lead.id = summary.lead_id AND %(where)s
                   AND summary.weighted_revenue IS DISTINCT FROM lead.weighted_revenue
                """,
                where=lead_where or SQL("TRUE"),
            )
        )
        self.invalidate_model(["weighted_revenue"])

"""The per-lead funnel summary: the function of the history (`_summarise`) and the SQL
that keeps the table equal to it after every flush. Kept together so that the one
definition of each measure sits next to the code that stores it."""

from odoo import api, fields, models
from odoo.tools import SQL, split_every

# Columns of a summary row that `_summarise` derives from the history, in
# the order it yields them, with their SQL types.
HISTORY_COLUMNS = {
    "lead_id": "int4",
    "step_id": "int4",
    "step_sequence": "int4",
    "date_entered": "timestamp",
    "date_last_entered": "timestamp",
    "days_closed": "float8",
    "is_current": "bool",
    "is_first": "bool",
    "advanced": "bool",
    "regressed": "bool",
    "lost": "bool",
    "won": "bool",
    "lead_open": "bool",
    "date_won": "timestamp",
}


class SalesFunnelLeadStep(models.Model):
    """Per-lead funnel summary: one row per funnel step a lead reached.

    A pure function of the lead's stage history (`sales.funnel.history`),
    see `_summarise`, plus the lead's current dimensions (team, salesperson,
    amounts...) so that reports group without a join on crm_lead. The
    history calls `_refresh` for the leads of every recorded move, in the
    same flush; `_rebuild` recomputes the whole table with the same code.
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

    # Columns copied from crm_lead as it is now.
    LEAD_DIMENSIONS = {
        "lead_type": SQL("lead.type"),
        "company_id": SQL("lead.company_id"),
        "currency_id": SQL("company.currency_id"),
        "team_id": SQL("lead.team_id"),
        "user_id": SQL("lead.user_id"),
        "expected_revenue": SQL("lead.expected_revenue"),
        "weighted_revenue": SQL("lead.weighted_revenue"),
        # a customer that had won a deal before this lead was created
        "customer_type": SQL(
            "CASE WHEN first_wins.date_closed < lead.create_date THEN 'existing' ELSE 'new' END"
        ),
    }
    # What `LEAD_DIMENSIONS` read besides the lead: its company, and when
    # its customer first won a deal.
    LEAD_JOINS = SQL(
        """
        LEFT JOIN res_company AS company ON company.id = lead.company_id
        LEFT JOIN LATERAL (SELECT MIN(won.date_closed) AS date_closed
                             FROM crm_lead AS won
                            WHERE won.partner_id = lead.partner_id AND won.won_status = 'won') AS first_wins ON TRUE
        """
    )
    # Leads summarised per statement by `_rebuild`.
    REBUILD_CHUNK = 5000
    # The parts of `_write_rows` that do not change, built once.
    ROW_COLUMNS = [*HISTORY_COLUMNS, *LEAD_DIMENSIONS]
    ROW_COLUMNS_SQL = SQL(", ").join(SQL.identifier(column) for column in ROW_COLUMNS)
    # one typed array per column, unnested into rows
    FRESH_SQL = (
        "SELECT * FROM unnest("
        + ", ".join(f"%s::{column_type}[]" for column_type in HISTORY_COLUMNS.values())
        + ") AS fresh("
        + ", ".join(f'"{column}"' for column in HISTORY_COLUMNS)
        + ")"
    )
    DIMENSIONS_SQL = SQL(", ").join(
        SQL("%s AS %s", value, SQL.identifier(column)) for column, value in LEAD_DIMENSIONS.items()
    )
    DIMENSION_COLUMNS_SQL = SQL(", ").join(SQL.identifier("dimensions", column) for column in LEAD_DIMENSIONS)
    UPSERT_SQL = SQL(
        "ON CONFLICT (lead_id, step_id) DO UPDATE SET (%s) = (%s) WHERE (%s) IS DISTINCT FROM (%s)",
        ROW_COLUMNS_SQL,
        SQL(", ").join(SQL.identifier("excluded", column) for column in ROW_COLUMNS),
        SQL(", ").join(SQL.identifier("sales_funnel_lead_step", column) for column in ROW_COLUMNS),
        SQL(", ").join(SQL.identifier("excluded", column) for column in ROW_COLUMNS),
    )

    def init(self):
        # A move rewrites the rows of steps the lead had reached, none of
        # their indexed columns changed: with room on their page, the new
        # versions stay there (HOT updates, no index entry), and the rows of
        # newly entered steps go to the end of the table instead of into the
        # holes of old pages. The table keeps its order of entry, which the
        # BRIN index above relies on, through any number of moves. A fifth
        # of each page is kept for that.
        self.env.cr.execute("ALTER TABLE sales_funnel_lead_step SET (fillfactor = 80)")

    # ------------------------------------------------------------ the function

    @api.model
    def _summarise(self, lead_id, events, steps):
        """The summary rows of one lead, from its history `events` in order
        (see `_read_events`); `steps` maps each step id to its (position,
        sequence). Yields tuples of `HISTORY_COLUMNS`.

        A stay in a step starts when an open lead enters it (or is restored
        there) and ends at its next move or its loss; the time in a won
        stage, and in a step while lost, is no stay. A lead advanced from a
        step when it entered a later step after first entering this one; it
        regressed from a step when it moved from there to an earlier step
        (leaving a won stage included). Its state (open, lost, won) and its
        current step are those its last events left it in.
        """
        rows = {}  # step id -> [date_entered, seconds, regressed, order of the first entry]
        entries = []  # (order, position) of every entry into a step
        current = stay_start = first_step = won_at = None
        state = "open"

        def end_stay(date):
            nonlocal stay_start
            if stay_start is not None and current:
                rows[current][1] += (date - stay_start).total_seconds()
            stay_start = None

        for order, (date, kind, from_won, to_won, to_step) in enumerate(events):
            if kind == "lost":
                end_stay(date)
                state = "lost"
                continue
            if kind == "restored":
                # a lost deal restored in a won stage is won again (crm's rule)
                if to_won:
                    state, won_at = "won", date
                else:
                    state, stay_start = "open", date if current else None
                continue
            end_stay(date)
            if current and (from_won or (to_step and steps[to_step][0] < steps[current][0])):
                rows[current][2] = True
            current = to_step
            if to_won:
                state, won_at = "won", date
            elif state == "won":
                state, won_at = "open", None
            if not current:
                continue
            rows.setdefault(current, [date, 0.0, False, order])
            entries.append((order, steps[current][0]))
            first_step = first_step or current
            if state == "open":
                stay_start = date

        for step_id, (date_entered, seconds, regressed, first_order) in rows.items():
            position, sequence, _gated = steps[step_id]
            here = step_id == current
            is_current = here and state == "open"
            yield (
                lead_id,
                step_id,
                sequence,
                date_entered,
                stay_start if is_current else None,
                seconds / 86400.0,
                is_current,
                step_id == first_step,
                any(order > first_order and later > position for order, later in entries),
                regressed,
                here and state == "lost",
                state == "won",
                state == "open",
                won_at,
            )

    # ------------------------------------------------------------ reading

    @api.model
    def _steps(self):
        """{step id: (position, sequence, gated)}: see `sales.funnel.step._funnel_positions`."""
        return self.env["sales.funnel.step"]._funnel_positions()

    @api.model
    def _read_events(self, lead_ids, inserting=None):
        """{lead id: [(date, kind, from a won stage, to a won stage, step)]},
        each lead's history in order: by date, a lead's entry before what
        happened in the same instant (crm stores some moves to the second),
        then in the order recorded. `inserting`: an INSERT into the history
        (RETURNING its rows) run in the same statement, whose rows count too."""
        rows = SQL("SELECT * FROM sales_funnel_history WHERE lead_id = ANY(%s)", list(lead_ids))
        if inserting:
            # the statement does not see the rows it inserts, but what it returns
            rows = SQL("%s UNION ALL SELECT * FROM inserted", rows)
        self.env.cr.execute(
            SQL(
                """
                WITH %(inserted)s history AS (%(rows)s)
                SELECT history.lead_id, history.date, history.kind,
                       COALESCE(from_stage.is_won, FALSE), COALESCE(to_stage.is_won, FALSE), history.to_step_id
                  FROM history
                  LEFT JOIN crm_stage AS from_stage ON from_stage.id = history.from_stage_id
                  LEFT JOIN crm_stage AS to_stage ON to_stage.id = history.to_stage_id
                 ORDER BY history.lead_id, history.date, history.kind <> 'enter', history.id
                """,
                inserted=SQL("inserted AS (%s),", inserting) if inserting else SQL(),
                rows=rows,
            )
        )
        events = {}
        for lead_id, *event in self.env.cr.fetchall():
            events.setdefault(lead_id, []).append(tuple(event))
        return events

    # ------------------------------------------------------------ keeping up

    # In the transaction's precommit data: the leads whose copied values
    # changed without a move, and whether the steps were reordered.
    PENDING = "sales_funnel_stages.summary_pending"

    @api.model
    def _mark_pending(self, changed=(), reordered=False):
        """The leads changed values the summary copies, or the steps were
        reordered (every move is named again, every summary rebuilt): done
        once for the whole transaction (at commit, or before anything reads
        the summary), not once per write. Moves are summarised as they are
        recorded (`sales.funnel.history._record`)."""
        if not (changed or reordered):
            return
        data = self.env.cr.precommit.data
        if self.PENDING not in data:
            data[self.PENDING] = {"changed": set(), "reordered": False}
            self.env.cr.precommit.add(self._flush_pending)
        data[self.PENDING]["changed"].update(changed)
        data[self.PENDING]["reordered"] |= reordered

    @api.model
    def _unmark_pending(self, lead_ids):
        pending = self.env.cr.precommit.data.get(self.PENDING)
        if pending:
            pending["changed"].difference_update(lead_ids)

    def _flush_pending(self):
        data = self.env.cr.precommit.data
        if self.PENDING not in data:
            return
        self.env["crm.lead"].flush_model()
        pending = data.pop(self.PENDING, None)  # a read while flushing may have done it
        if not pending:
            return
        if pending["reordered"]:
            self.env["sales.funnel.history"].sudo()._stages_remapped()
        else:
            self.sudo()._refresh_dimensions(pending["changed"])

    def flush_model(self, fnames=None):
        self._flush_pending()
        return super().flush_model(fnames)

    # ------------------------------------------------------------ writing

    @api.model
    def _refresh(self, lead_ids, events=None):
        """Bring the summary of the leads in line with their history
        (`events`, when just read) and their current values: one query to
        read the history, one to write. Rows are updated in place when they
        changed (a move rewrites the two or three rows it touches, not the
        lead's whole summary), so that the table keeps its order of entry.
        Without `events`, rows of steps no longer in a lead's history (a
        remapped stage) are deleted; new moves only add steps."""
        lead_ids = sorted(set(lead_ids))
        if not lead_ids:
            return
        if events is None:
            for chunk in split_every(self.REBUILD_CHUNK, lead_ids):
                self._write_rows(chunk, self._rows_of(chunk, self._steps()), prune=True)
            return
        steps = self._steps()
        rows = [
            row
            for lead_id, lead_events in events.items()
            for row in self._summarise(lead_id, lead_events, steps)
        ]
        self._write_rows(lead_ids, rows, prune=False)

    @api.model
    def _rebuild(self):
        """Recompute the whole summary from the history, in chunks of leads
        (in order of creation, so that rows are stored roughly in order of
        entry, which the BRIN index above relies on)."""
        self.env.flush_all()
        # not TRUNCATE: its lock would keep every reader of the funnel waiting until commit
        self.env.cr.execute("DELETE FROM sales_funnel_lead_step")
        steps = self._steps()
        self.env.cr.execute("SELECT DISTINCT lead_id FROM sales_funnel_history ORDER BY lead_id")
        for lead_ids in split_every(self.REBUILD_CHUNK, [lead_id for (lead_id,) in self.env.cr.fetchall()]):
            rows = sorted(self._rows_of(lead_ids, steps), key=lambda row: row[3])
            self._write_rows(lead_ids, rows, insert_only=True)
        self.invalidate_model()

    @api.model
    def _rows_of(self, lead_ids, steps):
        """The summary rows (`HISTORY_COLUMNS`) of the leads, from their history."""
        events = self._read_events(lead_ids)
        return [
            row
            for lead_id, lead_events in events.items()
            for row in self._summarise(lead_id, lead_events, steps)
        ]

    @api.model
    def _write_rows(self, lead_ids, rows, prune=False, insert_only=False):
        """Store `rows` with the leads' current values (`LEAD_DIMENSIONS`,
        read in the same statement): inserted, or updated where they
        changed. `prune`: the leads' other rows are deleted. `insert_only`:
        into a table emptied first."""
        arrays = [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * len(HISTORY_COLUMNS)
        # constant text, the values bound
        fresh = SQL(self.FRESH_SQL, *arrays)  # pylint: disable=sql-injection
        gone = SQL()
        if prune:
            # data-modifying parts of a WITH run whether or not the query reads them
            gone = SQL(
                """, gone AS (
                    DELETE FROM sales_funnel_lead_step AS summary
                     WHERE summary.lead_id = ANY(%s)
                       AND NOT EXISTS (SELECT 1 FROM fresh
                                        WHERE fresh.lead_id = summary.lead_id AND fresh.step_id = summary.step_id)
                )""",
                list(lead_ids),
            )
        conflict = SQL() if insert_only else self.UPSERT_SQL
        self.env.cr.execute(
            SQL(
                """
                WITH fresh AS (%(fresh)s) %(gone)s
                INSERT INTO sales_funnel_lead_step (%(columns)s)
                SELECT fresh.*, %(dimension_columns)s
                  FROM fresh
                  -- each lead's values once, not once per row
                  JOIN (SELECT lead.id AS lead_id, %(dimensions)s
                          FROM crm_lead AS lead
                          %(lead_joins)s
                         WHERE lead.id = ANY(%(leads)s)) AS dimensions ON dimensions.lead_id = fresh.lead_id
                %(conflict)s
                """,
                fresh=fresh,
                lead_joins=self.LEAD_JOINS,
                leads=list(lead_ids),
                dimension_columns=self.DIMENSION_COLUMNS_SQL,
                gone=gone,
                columns=self.ROW_COLUMNS_SQL,
                dimensions=self.DIMENSIONS_SQL,
                conflict=conflict,
            )
        )
        self.invalidate_model()

    @api.model
    def _refresh_dimensions(self, lead_ids):
        """The leads changed team, salesperson, amount...: copy it over, in
        one statement, to the rows of leads that have any."""
        if not lead_ids:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE sales_funnel_lead_step AS summary
                   SET (%(columns)s) = (%(values)s)
                  FROM crm_lead AS lead
                  %(lead_joins)s
                 WHERE summary.lead_id = lead.id AND lead.id = ANY(%(leads)s)
                """,
                lead_joins=self.LEAD_JOINS,
                columns=SQL(", ").join(SQL.identifier(column) for column in self.LEAD_DIMENSIONS),
                values=SQL(", ").join(self.LEAD_DIMENSIONS.values()),
                leads=list(lead_ids),
            )
        )
        self.invalidate_model(list(self.LEAD_DIMENSIONS))

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

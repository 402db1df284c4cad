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
    # Leads summarised per statement by `_rebuild`.
    REBUILD_CHUNK = 5000

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
            position, sequence = steps[step_id]
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
        """{step id: (position, sequence)}, positions in the funnel's order."""
        return self.env["sales.funnel.step"]._funnel_positions()

    @api.model
    def _read_events(self, lead_ids):
        """{lead id: [(date, kind, from a won stage, to a won stage, step)]},
        each lead's history in order: by date, a lead's entry before what
        happened in the same instant (crm stores some moves to the second),
        then in the order recorded."""
        self.env.cr.execute(
            """
            SELECT history.lead_id, history.date, history.kind,
                   COALESCE(from_stage.is_won, FALSE), COALESCE(to_stage.is_won, FALSE), history.to_step_id
              FROM sales_funnel_history AS history
              LEFT JOIN crm_stage AS from_stage ON from_stage.id = history.from_stage_id
              LEFT JOIN crm_stage AS to_stage ON to_stage.id = history.to_stage_id
             WHERE history.lead_id = ANY(%s)
             ORDER BY history.lead_id, history.date, history.kind <> 'enter', history.id
            """,
            [list(lead_ids)],
        )
        events = {}
        for lead_id, *event in self.env.cr.fetchall():
            events.setdefault(lead_id, []).append(tuple(event))
        return events

    @api.model
    def _first_wins(self, lead_ids):
        """Per customer (of the given leads), the date of its first won deal."""
        return SQL(
            """
            SELECT partner_id, MIN(date_closed) AS date_closed
              FROM crm_lead
             WHERE won_status = 'won'
               AND partner_id IN (SELECT partner_id FROM crm_lead WHERE id = ANY(%s))
             GROUP BY partner_id
            """,
            list(lead_ids),
        )

    # ------------------------------------------------------------ keeping up

    # In the transaction's precommit data: the leads whose summary is to be
    # refreshed, {"moved": ids with new history rows, "changed": ids whose
    # copied values changed}; and the history of the leads created in the
    # transaction, {lead id: [(date, not an entry, history id, event)]}, all
    # of it recorded here, so that it need not be read back.
    PENDING = "sales_funnel_stages.summary_pending"
    CREATED = "sales_funnel_stages.created_history"

    @api.model
    def _mark_pending(self, moved=(), changed=(), reordered=False):
        """The leads moved, or changed values the summary copies, or the
        steps were reordered (every move is named again, every summary
        rebuilt): done once for the whole transaction (at commit, or before
        anything reads the summary), not once per write."""
        if not (moved or changed or reordered):
            return
        data = self.env.cr.precommit.data
        if self.PENDING not in data:
            data[self.PENDING] = {"moved": set(), "changed": set(), "reordered": False}
            self.env.cr.precommit.add(self._flush_pending)
        data[self.PENDING]["moved"].update(moved)
        data[self.PENDING]["changed"].update(changed)
        data[self.PENDING]["reordered"] |= reordered

    @api.model
    def _note_created(self, lead_ids):
        self.env.cr.precommit.data.setdefault(self.CREATED, {}).update((lead_id, []) for lead_id in lead_ids)

    @api.model
    def _forget_created(self):
        self.env.cr.precommit.data.pop(self.CREATED, None)

    @api.model
    def _note_events(self, recorded):
        """History rows just inserted: [(lead id, row id, date, kind, from a
        won stage, to a won stage, step)]; those of leads created in this
        transaction are kept."""
        created = self.env.cr.precommit.data.get(self.CREATED, {})
        for lead_id, history_id, date, kind, from_won, to_won, to_step in recorded:
            if lead_id in created:
                created[lead_id].append(
                    (date, kind != "enter", history_id, (date, kind, from_won, to_won, to_step))
                )

    def _flush_pending(self):
        data = self.env.cr.precommit.data
        if self.PENDING not in data:
            return
        self.env["crm.lead"].flush_model()
        pending = data.pop(self.PENDING)
        if pending["reordered"]:
            self.env["sales.funnel.history"].sudo()._stages_remapped()
            return
        created = data.get(self.CREATED, {})
        # refreshing is idempotent: a lead marked in work rolled back since
        # is only summarised again from the history it has
        self.sudo()._refresh(
            pending["moved"], {lead_id: created[lead_id] for lead_id in pending["moved"] & created.keys()}
        )
        self.sudo()._refresh_dimensions(pending["changed"] - pending["moved"])

    def flush_model(self, fnames=None):
        self._flush_pending()
        return super().flush_model(fnames)

    # ------------------------------------------------------------ writing

    @api.model
    def _refresh(self, lead_ids, recorded=None):
        """Bring the summary of the leads in line with their history and
        their current values: one query to read the history (none for leads
        whose whole history was `recorded` in this transaction), one to
        write. Rows are updated in place when they changed (a move rewrites
        the two or three rows it touches, not the lead's whole summary), so
        that the table keeps its order of entry."""
        lead_ids = sorted(set(lead_ids))
        if len(lead_ids) > self.REBUILD_CHUNK:
            for chunk in split_every(self.REBUILD_CHUNK, lead_ids):
                self._refresh(
                    chunk,
                    {lead_id: (recorded or {})[lead_id] for lead_id in chunk if lead_id in (recorded or {})},
                )
            return
        if not lead_ids:
            return
        recorded = recorded or {}
        events = {lead_id: [event for *_order, event in sorted(rows)] for lead_id, rows in recorded.items()}
        unknown = [lead_id for lead_id in lead_ids if lead_id not in recorded]
        if unknown:
            events.update(self._read_events(unknown))
        steps = self._steps()
        rows = [
            row
            for lead_id, lead_events in events.items()
            for row in self._summarise(lead_id, lead_events, steps)
        ]
        # what was recorded is the whole history only if none of it was rolled back since
        complete = SQL("TRUE")
        if recorded:
            complete = SQL(
                "(SELECT COUNT(*) FROM sales_funnel_history WHERE lead_id = ANY(%s)) = %s",
                list(recorded),
                sum(len(rows) for rows in recorded.values()),
            )
        if not self._write_rows(lead_ids, rows, upsert=True, complete=complete):
            self._refresh(lead_ids)  # nothing was written: every lead again, from the history

    @api.model
    def _rebuild(self):
        """Recompute the whole summary from the history, in chunks of leads
        (in order of creation, so that rows are stored roughly in order of
        entry, which the BRIN index above relies on)."""
        self.env.flush_all()
        # not TRUNCATE: its lock would keep every reader of the funnel waiting until commit
        self.env.cr.execute("DELETE FROM sales_funnel_lead_step")
        self._forget_created()
        steps = self._steps()
        self.env.cr.execute("SELECT DISTINCT lead_id FROM sales_funnel_history ORDER BY lead_id")
        for lead_ids in split_every(self.REBUILD_CHUNK, [lead_id for (lead_id,) in self.env.cr.fetchall()]):
            rows = sorted(self._rows_of(lead_ids, steps), key=lambda row: row[3])
            self._write_rows(lead_ids, rows, upsert=False)
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
    def _write_rows(self, lead_ids, rows, upsert, complete=None):
        """Store `rows` with the leads' current values (`LEAD_DIMENSIONS`,
        read in the same statement), if the SQL condition `complete` holds;
        return whether it did. `upsert`: rows of the leads that are not in
        `rows` are deleted, the others inserted or updated; else the rows are
        only inserted (into a table emptied first)."""
        columns = [*HISTORY_COLUMNS, *self.LEAD_DIMENSIONS]
        fresh = SQL(
            "SELECT * FROM unnest(%s) AS fresh(%s)",
            SQL(", ").join(
                SQL("%s::%s[]", [row[index] for row in rows], SQL(column_type))
                for index, column_type in enumerate(HISTORY_COLUMNS.values())
            ),
            SQL(", ").join(SQL.identifier(column) for column in HISTORY_COLUMNS),
        )
        gone = SQL()
        conflict = SQL()
        if upsert:
            gone = SQL(
                """, gone AS (
                    DELETE FROM sales_funnel_lead_step AS summary
                     WHERE summary.lead_id = ANY(%s) AND (SELECT ok FROM checked)
                       AND NOT EXISTS (SELECT 1 FROM fresh
                                        WHERE fresh.lead_id = summary.lead_id AND fresh.step_id = summary.step_id)
                )""",
                list(lead_ids),
            )
            conflict = SQL(
                "ON CONFLICT (lead_id, step_id) DO UPDATE SET (%(columns)s) = (%(excluded)s)"
                " WHERE (%(current)s) IS DISTINCT FROM (%(excluded)s)",
                columns=SQL(", ").join(SQL.identifier(column) for column in columns),
                excluded=SQL(", ").join(SQL.identifier("excluded", column) for column in columns),
                current=SQL(", ").join(
                    SQL.identifier("sales_funnel_lead_step", column) for column in columns
                ),
            )
        # data-modifying parts of a WITH run whether or not the query reads them
        complete = complete or SQL("TRUE")
        self.env.cr.execute(
            SQL(
                """
                WITH fresh AS (%(fresh)s), first_wins AS (%(first_wins)s), checked AS (SELECT %(complete)s AS ok)
                     %(gone)s, written AS (
                    INSERT INTO sales_funnel_lead_step (%(columns)s)
                    SELECT fresh.*, %(dimensions)s
                      FROM fresh
                      JOIN crm_lead AS lead ON lead.id = fresh.lead_id
                      LEFT JOIN res_company AS company ON company.id = lead.company_id
                      LEFT JOIN first_wins ON first_wins.partner_id = lead.partner_id
                     WHERE (SELECT ok FROM checked)
                    %(conflict)s
                    RETURNING 1
                )
                SELECT ok FROM checked
                """,
                fresh=fresh,
                first_wins=self._first_wins(lead_ids),
                complete=complete,
                gone=gone,
                columns=SQL(", ").join(SQL.identifier(column) for column in columns),
                dimensions=SQL(", ").join(self.LEAD_DIMENSIONS.values()),
                conflict=conflict,
            )
        )
        [(written,)] = self.env.cr.fetchall()
        self.invalidate_model()
        return written

    @api.model
    def _refresh_dimensions(self, lead_ids):
        """The leads changed team, salesperson, amount...: copy it over, in
        one statement, to the rows of leads that have any."""
        if not lead_ids:
            return
        self.env.cr.execute(
            SQL(
                """
                WITH first_wins AS (%(first_wins)s)
                UPDATE sales_funnel_lead_step AS summary
                   SET (%(columns)s) = (%(values)s)
                  FROM crm_lead AS lead
                  LEFT JOIN res_company AS company ON company.id = lead.company_id
                  LEFT JOIN first_wins ON first_wins.partner_id = lead.partner_id
                 WHERE summary.lead_id = lead.id AND lead.id = ANY(%(leads)s)
                """,
                first_wins=self._first_wins(lead_ids),
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

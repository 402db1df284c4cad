"""The stage history: what observes crm_lead's writes, names the moves, checks the gates
on them and records them, in one flush. One path by design: every stage change goes
through it."""

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

HISTORY_KINDS = [
    ("enter", "Entered"),
    ("advance", "Advanced"),
    ("skip", "Skipped ahead"),
    ("lateral", "Within step"),
    ("regress", "Regressed"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("restored", "Restored"),
]

# crm_lead columns whose change is a funnel event (won_status: lost, restored)
EVENT_COLUMNS = frozenset({"stage_id", "won_status"})
# precommit data: {lead id: (stage id, status)} in the database, known
# without reading it (a lead just inserted without them, a lead about to be
# written whose values in cache are the database's), until its next flush
KNOWN_STATES = "sales_funnel_stages.known_states"
# crm_lead columns that the per-lead summary copies or depends on
SUMMARY_COLUMNS = frozenset(
    {
        "type",
        "company_id",
        "team_id",
        "user_id",
        "partner_id",
        "expected_revenue",
        "weighted_revenue",
        "create_date",
    }
)

# The columns a history row is written with, in order, and their SQL types:
# by the build from crm's tracking, and as moves are recorded
_ROW_COLUMNS = {
    "lead_id": "int4", "date": "timestamp", "kind": "varchar", "from_stage_id": "int4", "to_stage_id": "int4",
    "from_step_id": "int4", "to_step_id": "int4", "user_id": "int4", "team_id": "int4", "company_id": "int4",
    "expected_revenue": "numeric", "weighted_revenue": "numeric", "changed_by_id": "int4",
}  # fmt: skip
BACKFILL_COLUMNS = {**_ROW_COLUMNS, "backfilled": "bool"}
RECORD_COLUMNS = {**_ROW_COLUMNS, "gates_unmet": "bool", "date_deadline": "date", "values_known": "bool"}


def column_rows(columns, rows):
    """`SELECT` of `rows` (tuples in the order of `columns`, {name: SQL
    type}), sent as one array per column: thousands of rows per chunk of the
    build, which psycopg2 adapts in C as arrays (in Python as tuples)."""
    arrays = zip(*rows, strict=True)
    return SQL(
        "SELECT * FROM unnest(%s) AS moved(%s)",
        SQL(", ").join(
            SQL("%s::%s[]", list(values), SQL(column_type))
            for values, column_type in zip(arrays, columns.values(), strict=True)
        ),
        SQL(", ").join(SQL.identifier(column) for column in columns),
    )


class SalesFunnelHistory(models.Model):
    """Every stage change of a lead, as it happened.

    Recorded where the ORM writes crm_lead (`_observe`, called from the
    lead's `_create` and `_write_multi`), so that every path that changes a
    stage is seen: a user's write, crm's recomputation of the stage when the
    team or the salesperson changes, conversions, merges, imports, other
    modules. Only the system writes it; users read it under crm's own
    rules. The per-lead funnel summary (`sales.funnel.lead.step`) is derived
    from it once per transaction, or before anything reads it.
    """

    _name = "sales.funnel.history"
    _description = "Sales Funnel Stage History"
    _order = "date desc, id desc"
    _rec_name = "lead_id"
    # Millions of rows on large databases: no create/write bookkeeping
    # columns, rows are never written again; who made the change is kept.
    _log_access = False

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade", readonly=True)
    date = fields.Datetime(required=True, readonly=True, index=True)
    kind = fields.Selection(HISTORY_KINDS, required=True, readonly=True)
    from_stage_id = fields.Many2one("crm.stage", ondelete="set null", readonly=True)
    to_stage_id = fields.Many2one("crm.stage", ondelete="set null", readonly=True)
    from_step_id = fields.Many2one("sales.funnel.step", ondelete="set null", readonly=True)
    to_step_id = fields.Many2one("sales.funnel.step", ondelete="set null", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    expected_revenue = fields.Monetary(readonly=True, aggregator="sum_currency")
    weighted_revenue = fields.Monetary(readonly=True, aggregator="sum_currency")
    changed_by_id = fields.Many2one("res.users", string="Changed by", readonly=True)
    backfilled = fields.Boolean(
        string="From crm's Tracking",
        readonly=True,
        help="Rebuilt after the install from what crm had tracked, not recorded as it happened.",
    )
    # Slippage (sales.funnel.slippage): the expected closing at the move, and
    # the amount and closing the lead had at its previous recorded move (none
    # before a first one, nor after rows rebuilt from crm's tracking, which
    # keeps neither)
    date_deadline = fields.Date(string="Expected Closing", readonly=True)
    values_known = fields.Boolean(
        readonly=True,
        help="The row holds the lead's amount and expected closing of its moment: recorded live since "
        "version 19.0.1.3.0 (older rows and rows rebuilt from crm's tracking do not).",
    )
    previous_expected_revenue = fields.Monetary(
        readonly=True, aggregator=False, help="The amount at the lead's previous recorded move."
    )
    previous_date_deadline = fields.Date(
        string="Previous Expected Closing",
        readonly=True,
        help="The expected closing at the lead's previous move.",
    )
    gates_unmet = fields.Boolean(
        string="Won Past Unmet Gates",
        readonly=True,
        help="A win of an opportunity of a team that enforces stage gates, while it missed what a gated "
        "step asks for: winning is never refused, the funnel health shows it instead.",
    )

    # ------------------------------------------------------------ observing crm_lead

    @api.model
    def _states_before(self, leads, vals_list):
        """{lead id: (stage id, won status)} in the database, for the leads
        about to be written with a value of `EVENT_COLUMNS`: one query."""
        ids = [lead.id for lead, vals in zip(leads, vals_list, strict=True) if EVENT_COLUMNS & vals.keys()]
        known = self.env.cr.precommit.data.get(KNOWN_STATES, {})
        states = {lead_id: known.pop(lead_id) for lead_id in ids if lead_id in known}
        unknown = [lead_id for lead_id in ids if lead_id not in states]
        if unknown:
            self.env.cr.execute("SELECT id, stage_id, won_status FROM crm_lead WHERE id = ANY(%s)", [unknown])
            states.update(
                (lead_id, (stage_id, status)) for lead_id, stage_id, status in self.env.cr.fetchall()
            )
        return states

    @api.model
    def _note_states(self, leads):
        """The leads are about to be written: where their stage and status in
        cache are those of the database (neither written nor to compute
        since they were read), they need not be read again at the flush."""
        fields_ = [leads._fields["stage_id"], leads._fields["won_status"]]
        dirty = self.env._field_dirty
        known = self.env.cr.precommit.data.setdefault(KNOWN_STATES, {})
        for lead in leads:
            if not any(
                lead.id in dirty.get(field, ()) or self.env.is_to_compute(field, lead) for field in fields_
            ):
                known[lead.id] = (lead.stage_id.id or None, lead.won_status or None)

    @api.model
    def _observe_created(self, leads, stored_list):
        """New leads were inserted with `stored_list` values."""
        known = self.env.cr.precommit.data.setdefault(KNOWN_STATES, {})
        for lead, stored in zip(leads, stored_list, strict=True):
            if not (EVENT_COLUMNS & stored.keys()):  # crm computes them after
                known[lead.id] = (None, None)
        # a new lead has no summary yet: its first move writes it whole
        self._observe(leads, {}, stored_list, created=True)

    @api.model
    def _observe(self, leads, before, vals_list, created=False):
        """The leads were written with `vals_list` (column values), their
        stage and status having been `before` ({id: (stage id, status)};
        new leads: absent, and every stored value in their vals). Record
        the moves, check the stage gates on them, refresh the summary."""
        Stage = self.env["crm.stage"]
        events, changed = [], set()
        for lead, vals in zip(leads, vals_list, strict=True):
            if lead.id in before or "stage_id" in vals:
                old_stage, old_status = before.get(lead.id, (None, None))
                new_stage, new_status = vals.get("stage_id", old_stage), vals.get("won_status", old_status)
                events += self._events_of(
                    lead, Stage.browse(old_stage), old_status, Stage.browse(new_stage), new_status
                )
            if not created and SUMMARY_COLUMNS & vals.keys():
                changed.add(lead.id)
        moved = {lead.id for lead, *_event in events}
        if events:
            self._check_gates(events)
            self._record(events)
        self.env["sales.funnel.lead.step"]._mark_pending(changed=changed - moved)

    @api.model
    def _events_of(self, lead, old_stage, old_status, new_stage, new_status):
        """[(lead, kind, from stage, to stage)]: what a change of stage and
        status amounts to, in the order it happened."""
        events = []
        if old_status == "lost" and new_status != "lost":
            events.append((lead, "restored", old_stage or new_stage, old_stage or new_stage))
        if new_stage and new_stage != old_stage:
            kind = "enter"
            if old_stage:
                positions = self.env["sales.funnel.step"]._funnel_positions()
                kind = self._kind_of_move(
                    old_stage, new_stage, positions, self.env["crm.stage"]._funnel_stage_map()
                )
            events.append((lead, kind, old_stage, new_stage))
        if old_status != "lost" and new_status == "lost":
            events.append((lead, "lost", new_stage, new_stage))
        return events

    @api.model
    def _check_gates(self, events):
        """The stage gates, on every move of every path (see
        `crm.lead._funnel_gate_refusal`)."""
        for lead, _kind, from_stage, to_stage in events:
            refusal = lead._funnel_gate_refusal(from_stage, to_stage)
            if refusal:
                raise UserError(refusal)

    @api.model
    def _event_date(self):
        """The server's time of the transaction, like crm's
        `date_last_stage_update`. Demo data and imports of past moves, run
        as the superuser, may date their moves with the context key
        `funnel_event_date`; nobody else can."""
        date = self.env.context.get("funnel_event_date")
        if date and self.env.uid == SUPERUSER_ID:
            return fields.Datetime.to_datetime(date)
        return self.env.cr.now()

    @api.model
    def _record(self, events):
        """Insert the history rows of `events` [(lead, kind, from stage, to
        stage)], with the lead's values of that moment, and summarise the
        leads from their whole history, read back in the same statement:
        two queries however many leads the flush writes."""
        date = self._event_date()
        stages = self.env["crm.stage"]._funnel_stage_map()
        rows = [
            (
                lead.id,
                date,
                kind,
                from_stage.id or None,
                to_stage.id or None,
                stages.get(from_stage.id, (None,))[0],
                stages.get(to_stage.id, (None,))[0],
                lead.user_id.id or None,
                lead.team_id.id or None,
                lead.company_id.id or None,
                lead.expected_revenue,
                lead.weighted_revenue,
                self.env.uid,
                kind == "won" and lead._funnel_gates_unmet_at_win(),
                lead.date_deadline or None,
                True,
            )
            for lead, kind, from_stage, to_stage in events
        ]
        lead_ids = {lead.id for lead, *_event in events}
        Summary = self.env["sales.funnel.lead.step"]
        history = Summary._read_events(
            lead_ids,
            inserting=SQL(
                """
                INSERT INTO sales_funnel_history (%(columns)s, previous_expected_revenue, previous_date_deadline)
                SELECT moved.*, previous.expected_revenue, previous.date_deadline
                  FROM (%(rows)s) AS moved
                  -- the lead's previous move of an earlier instant: the moves of one
                  -- transaction (one instant) share it
                  LEFT JOIN LATERAL (
                        SELECT known.expected_revenue, known.date_deadline
                          FROM sales_funnel_history AS known
                         WHERE known.lead_id = moved.lead_id AND known.date < moved.date AND known.values_known
                         ORDER BY known.date DESC, known.id DESC
                         LIMIT 1
                       ) AS previous ON TRUE
                RETURNING *
                """,
                columns=SQL(", ").join(SQL.identifier(column) for column in RECORD_COLUMNS),
                rows=column_rows(RECORD_COLUMNS, rows),
            ),
        )
        Summary._refresh(lead_ids, history)
        Summary._unmark_pending(lead_ids)  # their copied values are written now
        self.invalidate_model()
        self.env["crm.lead"].browse(lead_ids).invalidate_recordset(
            ["funnel_history_ids", "funnel_history_count"]
        )

    def flush_model(self, fnames=None):
        # what is read from the history includes the moves still pending
        # in crm.lead's cache, and the names of moves after a reordering
        self.env["crm.lead"].flush_model()
        self.env["sales.funnel.lead.step"]._flush_pending()
        return super().flush_model(fnames)

    @api.model
    def _kind_of_move(self, from_stage, to_stage, positions, stages):
        """Name a stage change by the funnel steps it crosses (`positions`:
        `sales.funnel.step._funnel_positions`, `stages`:
        `crm.stage._funnel_stage_map`, as `_kind_of_move_sql` reads them)."""
        from_step, from_won = stages.get(from_stage.id, (None, False))
        to_step, to_won = stages.get(to_stage.id, (None, False))
        if to_won:
            return "won"
        before = positions.get(from_step, (0,))[0]
        after = positions.get(to_step, (0,))[0]
        if from_won or after < before:
            return "regress"
        if after == before:
            return "lateral"
        if before and after > before + 1:
            return "skip"
        return "advance"

    @api.model
    def _backfill(self, lead_ids, build):
        """The history of `lead_ids` from before the install (`build`: where
        it starts), from what Odoo holds: creation (entering the first
        stage), crm's tracking of the stage and of won/lost (lost, restored),
        `date_last_stage_update` for a last move that was not tracked,
        `date_closed` for a loss that was not. Amounts are the leads' current
        ones: Odoo does not keep them per move.

        Moves recorded live since the install stay; what a lead was at the
        install is what the first of them started from. Leads that already
        had a history at the install (demo data) keep it. Dates Odoo no
        longer has (a move or a loss untracked, then overwritten by a live
        one) are the install's."""
        started = build.date_queued
        self.env.cr.execute(
            """
            -- crm dates its tracking to the second: the creation too, so that it comes
            -- before the moves of the lead's first second
            SELECT id, date_trunc('second', create_date), create_uid, write_uid, stage_id, won_status = 'lost',
                   LEAST(date_last_stage_update, %(started)s), LEAST(COALESCE(date_closed, write_date), %(started)s),
                   user_id, team_id, company_id, expected_revenue, weighted_revenue
              FROM crm_lead AS lead
             WHERE id = ANY(%(leads)s)
               -- built already, or with a history at the install (demo data): kept
               AND NOT EXISTS (SELECT 1 FROM sales_funnel_history AS known
                                WHERE known.lead_id = lead.id AND (known.id <= %(last_history)s OR known.backfilled))
            """,
            {"leads": lead_ids, "started": started, "last_history": build.last_history_id},
        )
        leads = {row[0]: row for row in self.env.cr.fetchall()}
        if not leads:
            return
        at_install = self._states_at_install(list(leads))
        tracked = self._tracked_changes(list(leads), build.last_message_id)
        positions = self.env["sales.funnel.step"]._funnel_positions()
        stages = self.env["crm.stage"]._funnel_stage_map()
        rows = []
        for lead_id, lead in leads.items():
            _id, created, creator, writer, stage, lost, moved_on, closed_on, *dimensions = lead
            if lead_id in at_install:
                stage, first_status = at_install[lead_id]
                lost = first_status == "restored" if first_status else lost
            changes = tracked.get(lead_id, [])
            events = []
            moves = [change for change in changes if change[1] == "move"]
            current = moves[0][2] if moves else stage
            if current:
                events.append((created, "enter", None, current, creator))
            was_lost = False
            for date, change, from_stage, to_stage, author in changes:
                if change == "move":
                    if to_stage:  # to no stage: no move, as when recorded live
                        events.append((date, self._kind_of(from_stage, to_stage, positions, stages), from_stage,
                                       to_stage, author))  # fmt: skip
                    current = to_stage
                elif (change == "lost") != was_lost:
                    events.append((date, change, current, current, author))
                    was_lost = change == "lost"
            if stage and current != stage:
                events.append((moved_on or created, self._kind_of(current, stage, positions, stages), current,
                               stage, writer))  # fmt: skip
            if lost != was_lost:
                events.append((closed_on, "lost" if lost else "restored", stage, stage, writer))
            rows += [
                (lead_id, date, kind, from_stage, to_stage,
                 stages.get(from_stage, (None,))[0], stages.get(to_stage, (None,))[0], *dimensions, author, True)
                for date, kind, from_stage, to_stage, author in events
                if date
            ]  # fmt: skip
        if rows:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO sales_funnel_history (%s) %s",
                    SQL(", ").join(SQL.identifier(column) for column in BACKFILL_COLUMNS),
                    column_rows(BACKFILL_COLUMNS, rows),
                )
            )
        self.invalidate_model()

    def _kind_of(self, from_stage_id, to_stage_id, positions, stages):
        if not from_stage_id:
            return "enter"
        Stage = self.env["crm.stage"]
        return self._kind_of_move(Stage.browse(from_stage_id), Stage.browse(to_stage_id), positions, stages)

    @api.model
    def _states_at_install(self, lead_ids):
        """{lead id: (stage id, first loss or restoration)} for the leads
        with moves recorded since the install: the first starts from the
        stage they had; they were lost if the first change of status was a
        restoration (none: their status is unchanged)."""
        self.env.cr.execute(
            """
            SELECT lead_id, (ARRAY_AGG(from_stage_id ORDER BY id))[1],
                   (ARRAY_AGG(kind ORDER BY id) FILTER (WHERE kind IN ('lost', 'restored')))[1]
              FROM sales_funnel_history
             WHERE lead_id = ANY(%s)
             GROUP BY lead_id
            """,
            [lead_ids],
        )
        return {lead_id: (stage_id, status) for lead_id, stage_id, status in self.env.cr.fetchall()}

    @api.model
    def _tracked_changes(self, lead_ids, last_message_id):
        """{lead id: [(date, "move" | "lost" | "restored", from stage id,
        to stage id, author)]}: crm's tracking of the leads' stage and
        won/lost status, up to the install's last message, their own (not
        that of leads merged into them), in order (within
        one message: restored, moved, lost, as `_events_of`). crm tracks a
        status by its label, in the writer's language: a loss is a change to
        "Lost" in any installed language."""
        Fields = self.env["ir.model.fields"]
        stage_field = Fields._get("crm.lead", "stage_id").id
        self.env.cr.execute(
            """
            WITH lost AS (
                SELECT names.label
                  FROM ir_model_fields_selection AS selection
                 CROSS JOIN LATERAL jsonb_each_text(selection.name) AS names(lang, label)
                 WHERE selection.field_id = %(status)s AND selection.value = 'lost'
            )
            SELECT message.res_id, message.id, message.date, message.create_uid, tracking.field_id = %(stage)s,
                   tracking.old_value_integer, tracking.new_value_integer,
                   tracking.old_value_char IN (SELECT label FROM lost),
                   tracking.new_value_char IN (SELECT label FROM lost)
              FROM mail_message AS message
              JOIN mail_tracking_value AS tracking ON tracking.mail_message_id = message.id
             WHERE message.model = 'crm.lead' AND message.res_id = ANY(%(leads)s) AND message.id <= %(last)s
               -- not the messages of leads merged into it, which crm gives a subject "From <lead>"
               AND COALESCE(message.subject, '') = ''
               AND tracking.field_id IN (%(stage)s, %(status)s)
             ORDER BY message.res_id, message.date, message.id
            """,
            {
                "leads": lead_ids,
                "last": last_message_id,
                "stage": stage_field,
                "status": Fields._get("crm.lead", "won_status").id,
            },
        )
        rank = {"restored": 0, "move": 1, "lost": 2}
        changes = {}
        for (
            lead_id,
            message_id,
            date,
            author,
            is_stage,
            old_stage,
            new_stage,
            was_lost,
            is_lost,
        ) in self.env.cr.fetchall():
            if is_stage:
                change = ("move", old_stage or None, new_stage or None)
            elif was_lost != is_lost:
                change = ("lost" if is_lost else "restored", None, None)
            else:
                continue
            changes.setdefault(lead_id, []).append((date, message_id, rank[change[0]], change, author))
        return {
            lead_id: [
                (date, *change, author) for date, _message, _rank, change, author in sorted(lead_changes)
            ]
            for lead_id, lead_changes in changes.items()
        }

    @api.model
    def _kind_of_move_sql(self):
        """`_kind_of_move` in SQL, on the aliases from_stage, to_stage (crm_stage)
        and from_step, to_step (step positions in the funnel's order)."""
        return SQL(
            """CASE
                WHEN to_stage.is_won THEN 'won'
                WHEN from_stage.is_won OR COALESCE(to_step.position, 0) < COALESCE(from_step.position, 0)
                    THEN 'regress'
                WHEN COALESCE(to_step.position, 0) = COALESCE(from_step.position, 0) THEN 'lateral'
                WHEN to_step.position > from_step.position + 1 THEN 'skip'
                ELSE 'advance' END"""
        )

    @api.model
    def _stages_remapped(self, stages=None):
        """Stages were mapped onto other steps, became won or not, or the
        steps were reordered (`stages` None: all of them). The history
        follows each stage's mapping as it is now (so that the funnels of
        all periods compare on today's steps), its moves are named again,
        and the summaries of the leads concerned are rebuilt."""
        self.env.flush_all()
        concerned = SQL("TRUE")
        if stages is not None:
            concerned = SQL(
                "(history.from_stage_id = ANY(%(ids)s) OR history.to_stage_id = ANY(%(ids)s))", ids=stages.ids
            )
        self.env.cr.execute(
            SQL(
                """
                WITH steps AS (
                    SELECT id, ROW_NUMBER() OVER (ORDER BY sequence, id) AS position FROM sales_funnel_step
                )
                UPDATE sales_funnel_history AS history
                   -- a deleted stage's moves keep the step they had
                   SET from_step_id = CASE WHEN from_stage.id IS NULL THEN moved.from_step_id
                                           ELSE from_stage.funnel_step_id END,
                       to_step_id = CASE WHEN to_stage.id IS NULL THEN moved.to_step_id
                                         ELSE to_stage.funnel_step_id END,
                       kind = CASE WHEN history.kind IN ('enter', 'lost', 'restored') THEN history.kind
                                   ELSE %(kind_of_move)s END
                  FROM sales_funnel_history AS moved
                  LEFT JOIN crm_stage AS from_stage ON from_stage.id = moved.from_stage_id
                  LEFT JOIN crm_stage AS to_stage ON to_stage.id = moved.to_stage_id
                  LEFT JOIN steps AS from_step
                         ON from_step.id = COALESCE(from_stage.funnel_step_id, moved.from_step_id)
                  LEFT JOIN steps AS to_step ON to_step.id = COALESCE(to_stage.funnel_step_id, moved.to_step_id)
                 WHERE moved.id = history.id AND %(concerned)s
                RETURNING history.lead_id
                """,
                kind_of_move=self._kind_of_move_sql(),
                concerned=concerned,
            )
        )
        lead_ids = {lead_id for (lead_id,) in self.env.cr.fetchall()}
        self.invalidate_model()
        Summary = self.env["sales.funnel.lead.step"]
        if stages is None:
            Summary._rebuild()
        else:
            Summary._refresh(lead_ids)

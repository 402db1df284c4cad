import time

from psycopg2 import errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tools import SQL, config

# Run on a connection of their own, outside a transaction. While the build
# runs, the space of the dead row versions only (the heap pages touched
# since the last time); when it is done, the indexes and statistics, and the
# indexes of crm_lead rebuilt without blocking anyone: every lead got a new
# row version, hence new entries in each of them.
VACUUM_HEAP = SQL("VACUUM (INDEX_CLEANUP OFF) crm_lead")
ANALYZE = SQL("VACUUM (ANALYZE) crm_lead, sales_funnel_history, sales_funnel_lead_step")
REINDEX = SQL("REINDEX TABLE CONCURRENTLY crm_lead")


class SalesFunnelBuild(models.Model):
    """The funnel of the leads a database had when the addon was installed:
    their weighted revenue and tier, their stage history (from crm's
    tracking) and their per-lead summary, built after the install by a
    scheduled action, chunk after chunk of leads.

    The install itself only records where the build starts from (`_queue`):
    the last lead, tracking message and history row of that moment. Leads
    created later, and every move made after the install, are recorded live
    as always; a lead's chunk adds what came before (`sales.funnel.history.
    _backfill`), so that nothing is lost or counted twice. Each chunk is its
    own transaction, which also moves the build's cursor: a build stopped by
    a restart or a crash resumes where the last chunk ended.
    """

    _name = "sales.funnel.build"
    _description = "Sales Funnel History Build"
    _order = "id desc"

    date_queued = fields.Datetime(string="Queued On", required=True, readonly=True)
    date_done = fields.Datetime(string="Done On", readonly=True)
    last_lead_id = fields.Integer(
        readonly=True, help="The last lead of the install: later ones are recorded live."
    )
    last_message_id = fields.Integer(readonly=True, help="crm's tracking up to this message is the build's.")
    last_history_id = fields.Integer(readonly=True, help="Leads with history up to this row keep it.")
    next_lead_id = fields.Integer(readonly=True, help="Leads before this one are built.")
    lead_count = fields.Integer(string="Leads to Build", readonly=True)
    done_count = fields.Integer(string="Leads Built", readonly=True)

    # Leads per chunk: a user's move of a lead of the chunk waits for its
    # commit, which comes well within a second at this size.
    CHUNK = 1000
    # chunks between two vacuums of crm_lead (each reads the pages touched
    # since the build started: not too often), and per run of the action
    VACUUM_EVERY = 40
    # chunks that met other changes, in a row, before the command gives up
    RETRIES = 5

    # ------------------------------------------------------------ queueing

    @api.model
    def _queue(self, now=False):
        """At install: note where the build starts and have the scheduled
        action run it, or run it `now`: when Odoo runs tests (they read a
        complete history) or installs demo data (a few thousand leads)."""
        build = self._start()
        if now or not build.last_lead_id or config["test_enable"]:
            build._run()
        else:
            self.env.ref("sales_funnel_stages.ir_cron_build_funnel_history")._trigger()
        return build

    @api.model
    def _start(self):
        """A new build, from this moment. Reads no lead: the last ids come
        from the indexes."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT (SELECT MAX(id) FROM crm_lead), (SELECT MAX(id) FROM mail_message),
                   (SELECT MAX(id) FROM sales_funnel_history)
            """
        )
        last_lead, last_message, last_history = self.env.cr.fetchone()
        return self.create(
            {
                "date_queued": fields.Datetime.now(),
                "last_lead_id": last_lead or 0,
                "last_message_id": last_message or 0,
                "last_history_id": last_history or 0,
            }
        )

    @api.model
    def _pending(self):
        """The build under way, if any."""
        return self.sudo().search([("date_done", "=", False)], limit=1)

    # ------------------------------------------------------------ building

    @api.model
    def _cron_build(self):
        """The scheduled action: a few chunks per run, Odoo running it again
        at once while leads remain. Odoo's runner keeps a transaction open
        for the whole run, whose snapshot keeps the old row versions of the
        run's chunks: they are vacuumed at the start of the next run. The
        indexes of crm_lead are not rebuilt here: that would wait for the
        runner's transaction forever (`odoo-bin funnel_build` does it)."""
        build = self._pending()
        if not build:
            return
        build._maintain(VACUUM_HEAP)
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=build._remaining())
        for _chunk in range(self.VACUUM_EVERY):
            built = build._try_chunk()
            if built is None:  # a conflict, or another process builds: the next run
                Cron._commit_progress(remaining=build._remaining())
                break
            done = bool(build.date_done)
            if Cron._commit_progress(built, remaining=build._remaining()) <= 0 or done:
                break
        if build.date_done:
            build._maintain(ANALYZE)

    def _build_committed(self, commit):
        """Chunk after chunk, each committed by `commit(leads built)`
        (`odoo-bin funnel_build`). Filling a lead's values writes a new
        version of its row: vacuumed every few chunks, the old versions'
        space takes the next chunks' new ones, so that crm_lead does not grow
        by a copy of itself; when done, its indexes are rebuilt."""
        chunks, done, conflicts = 0, False, 0
        while not done:
            built = self._try_chunk()
            if built is None:
                conflicts += 1
                if conflicts > self.RETRIES:
                    raise UserError(
                        self.env._("The funnel history build keeps meeting other changes; run it again.")
                    )
                self.env.cr.rollback()
                time.sleep(conflicts)
                continue
            done = bool(self.date_done)
            commit(built)
            chunks += 1
            # nothing read in between: a transaction open here would hold
            # back the vacuum, and the reindex would wait for it forever
            if done:
                self._maintain(ANALYZE, REINDEX)
            elif chunks % self.VACUUM_EVERY == 0:
                self._maintain(VACUUM_HEAP)

    def _try_chunk(self):
        """`_build_chunk`, or None when it cannot be done now: another
        process is building (the build is locked), or the chunk met a user's
        change made meanwhile (serialization failure, deadlock). The
        transaction is then to be rolled back and the chunk tried again."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT 1 FROM sales_funnel_build WHERE id = %s FOR NO KEY UPDATE NOWAIT", [self.id]
                )
                return self._build_chunk()
        except (errors.LockNotAvailable, errors.SerializationFailure, errors.DeadlockDetected):
            self.env.invalidate_all()
            return None

    def _maintain(self, *statements):
        # VACUUM and REINDEX CONCURRENTLY run outside a transaction
        with db_connect(self.env.cr.dbname).cursor() as cr:
            cr._cnx.autocommit = True
            for statement in statements:
                cr.execute(statement)

    def _run(self):
        """Build to the end in this transaction: the install when Odoo runs
        tests (`odoo-bin funnel_build` commits chunk by chunk instead)."""
        self.ensure_one()
        while not self.date_done:
            self._build_chunk()

    def _build_chunk(self, size=None):
        """Build the next chunk of leads: lock them (a user's move of one
        waits for this chunk's commit, then sees its history), fill their
        values, add their history from before the install, summarise them;
        move the cursor. Returns how many leads were built."""
        self.ensure_one()
        self._remaining()  # counted once, by the first chunk
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT id FROM crm_lead WHERE id >= %s AND id <= %s ORDER BY id LIMIT %s FOR NO KEY UPDATE
            """,
            [self.next_lead_id, self.last_lead_id, size or self.CHUNK],
        )
        lead_ids = [lead_id for (lead_id,) in self.env.cr.fetchall()]
        self._build(lead_ids)
        values = {"next_lead_id": (lead_ids[-1] if lead_ids else self.last_lead_id) + 1}
        values["done_count"] = self.done_count + len(lead_ids)
        if not lead_ids or values["next_lead_id"] > self.last_lead_id:
            self._build(self._unobserved())
            values["date_done"] = fields.Datetime.now()
        self.write(values)
        return len(lead_ids)

    def _unobserved(self):
        """Leads created after the install but never recorded: by a server
        process still running the code of before the install (a request
        under way, an import). Every lead recorded since has an entry in the
        history; these get theirs at the end of the build."""
        self.env.cr.execute(
            """
            SELECT lead.id FROM crm_lead AS lead
             WHERE lead.id > %s AND lead.stage_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM sales_funnel_history AS known
                                WHERE known.lead_id = lead.id AND (known.kind = 'enter' OR known.backfilled))
             ORDER BY lead.id
               FOR NO KEY UPDATE OF lead
            """,
            [self.last_lead_id],
        )
        return [lead_id for (lead_id,) in self.env.cr.fetchall()]

    def _build(self, lead_ids):
        """Values, history from before the install, summary of the leads."""
        if lead_ids:
            self.env["crm.lead"]._funnel_refresh_values(SQL("lead.id = ANY(%s)", lead_ids))
            self.env["sales.funnel.history"]._backfill(lead_ids, self)
            self.env["sales.funnel.lead.step"]._refresh(lead_ids)

    @api.model
    def _before_merge(self, leads):
        """crm gives a merged lead's messages, its tracking included, to the
        one that stays: leads not built yet are built first, each from its
        own tracking (the one that stays keeps its own history, as after
        the build)."""
        build = self._pending()
        if build:
            build._build(
                sorted(lead.id for lead in leads if build.next_lead_id <= lead.id <= build.last_lead_id)
            )

    def _count(self):
        self.env.cr.execute("SELECT COUNT(*) FROM crm_lead WHERE id <= %s", [self.last_lead_id])
        self.lead_count = self.env.cr.fetchone()[0]

    def _remaining(self):
        if not self.lead_count:
            self._count()
        return 0 if self.date_done else max(self.lead_count - self.done_count, 0)

    # ------------------------------------------------------------ progress

    @api.model
    @api.readonly
    def get_progress(self):
        """What the funnel views, the workbook and the settings say while
        the build runs: False when the history is complete."""
        build = self._pending()
        if not build or not self.env.user._is_internal():
            return False
        if build.lead_count:
            message = self.env._(
                "Funnel history is being built: %(done)s of %(total)s leads. Figures of the time before the "
                "install are incomplete until it ends.",
                done=build.done_count,
                total=build.lead_count,
            )
        else:
            message = self.env._(
                "Funnel history is being built: starting. Figures of the time before the install are "
                "incomplete until it ends."
            )
        return {"done": build.done_count, "total": build.lead_count, "message": message}

"""The build of the history after an install, against the test's own account.

Users' operations are first tracked by crm as before the addon; their funnel
records are then removed, as if the addon had never been installed, and a
build is queued. It runs chunk after chunk (one of them crashes and is run
again) while users keep working between the chunks. At the end, the history
must be every move, once, in order: those from before the install, rebuilt
from crm's tracking, and those recorded live; the summary and the report
must count them as the test does.
"""

import io
import logging

import openpyxl

from odoo.tests import HttpCase, new_test_user

from .test_history_replay import SEED, HistoryReplayCase, tagged

_logger = logging.getLogger(__name__)

BEFORE = 160  # operations before the install
BETWEEN = 4  # at most, between two chunks


@tagged("post_install", "-at_install")
class TestHistoryBuild(HistoryReplayCase, HttpCase):
    tracked = True

    def test_build_with_users_at_work(self):
        _logger.info("history build: seed %s, %s operations before the install", SEED, BEFORE)
        self._start_replay()
        self._replay(BEFORE)
        self._forget_the_funnel()
        self.installed_at = self.clock
        build = self.env["sales.funnel.build"]._start()
        build.next_lead_id = min(self.moves)  # the database's other leads are not the test's
        self.assertEqual(self.env["sales.funnel.build"].get_progress()["done"], 0)
        chunks = 0
        while not build.date_done:
            size = self.rng.randint(2, 5)
            if chunks == 2:
                with self.env.cr.savepoint() as crash:
                    build._build_chunk(size)
                    crash.rollback()  # the server died before the chunk's commit
                self.env.invalidate_all()
            build._build_chunk(size)
            chunks += 1
            self._replay(self.rng.randint(1, BETWEEN))
        self.assertFalse(self.env["sales.funnel.build"].get_progress())
        self.assertGreater(chunks, 5)
        _logger.info("history build: %s chunks, %s leads", chunks, build.done_count)
        self._replay(20)
        self._check_all()

    def test_leads_created_unobserved_get_their_history(self):
        """A lead created after the install by a process still on the old
        code (no history, no values) is built at the end of the build."""
        build = self.env["sales.funnel.build"]._start()
        team = self.teams[0]
        stage = self._stages(team)[1]
        lead = self.env["crm.lead"].create(
            {"name": "Unobserved", "type": "opportunity", "team_id": team.id, "stage_id": stage.id,
             "expected_revenue": 10000.0}
        )  # fmt: skip
        self.env.flush_all()
        self.env.cr.execute("DELETE FROM sales_funnel_history WHERE lead_id = %s", [lead.id])
        self.env.cr.execute("DELETE FROM sales_funnel_lead_step WHERE lead_id = %s", [lead.id])
        self.env.cr.execute("UPDATE crm_lead SET weighted_revenue = NULL WHERE id = %s", [lead.id])
        self.env.invalidate_all()
        build._run()
        self.assertEqual([(row.kind, row.to_stage_id) for row in lead.funnel_history_ids], [("enter", stage)])
        self.assertEqual(lead.weighted_revenue, 10000.0 * stage.funnel_weight / 100.0)
        summary = self.env["sales.funnel.lead.step"].search([("lead_id", "=", lead.id)])
        self.assertEqual(summary.step_id, stage.funnel_step_id)

    def _forget_the_funnel(self):
        """What the database was before the addon: crm's leads and tracking,
        created when they entered their first stage; no funnel record."""
        self.env.flush_all()
        lead_ids = list(self.moves)
        cr = self.env.cr
        cr.execute("DELETE FROM sales_funnel_history WHERE lead_id = ANY(%s)", [lead_ids])
        cr.execute("DELETE FROM sales_funnel_lead_step WHERE lead_id = ANY(%s)", [lead_ids])
        for lead_id, moves in self.moves.items():
            if not moves:
                continue
            cr.execute(
                "UPDATE crm_lead SET create_date = %s, weighted_revenue = NULL, priority_tier = NULL WHERE id = %s",
                [moves[0][0], lead_id],
            )
        self.env.invalidate_all()

    def test_progress_is_shown(self):
        """While a build runs, the settings and the workbook say how far it
        is; once done, nothing."""
        self.env["crm.lead"].create([{"name": f"Before the build {number}"} for number in range(2)])
        build = self.env["sales.funnel.build"]._start()
        build._build_chunk(1)
        total = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search_count([("id", "<=", build.last_lead_id)])
        )
        message = f"Funnel history is being built: 1 of {total} leads."
        self.assertIn(message, self.env["sales.funnel.build"].get_progress()["message"])
        self.assertIn(message, self.env["res.config.settings"].create({}).funnel_build_progress)
        self.assertIn(message, self._workbook_note())
        new_test_user(self.env, "funnel_build_manager", groups="sales_team.group_sale_manager")
        self.start_tour(
            "/odoo/action-sales_funnel_stages.sales_funnel_report_action",
            "sales_funnel_build_notice_tour",
            login="funnel_build_manager",
        )
        build._run()
        self.assertFalse(self.env["sales.funnel.build"].get_progress())
        self.assertFalse(self.env["res.config.settings"].create({}).funnel_build_progress)
        self.assertIsNone(self._workbook_note())

    def _workbook_note(self):
        export = self.env["sales.funnel.export"].create({"period": "this_month"})
        export.action_export()
        book = openpyxl.load_workbook(io.BytesIO(export._in_export_companies()._workbook()))
        return book["Summary"].cell(row=2, column=1).value

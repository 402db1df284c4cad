from odoo import api, fields, models
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


class SalesFunnelHistory(models.Model):
    """Every stage change of a lead, as it happened.

    Only the system writes it (from crm.lead's create and write, and in SQL
    at install from what Odoo already recorded); users read it under crm's
    own rules. The per-lead funnel summary (`sales.funnel.lead.step`) is
    derived from it.
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

    @api.model
    def _kind_of_move(self, from_stage, to_stage, sequences):
        """Name a stage change by the funnel steps it crosses (`sequences`:
        those of all funnel steps)."""
        if to_stage.is_won:
            return "won"
        before = from_stage.funnel_step_id.sequence or 0
        after = to_stage.funnel_step_id.sequence or 0
        if from_stage.is_won or after < before:
            return "regress"
        if after == before:
            return "lateral"
        if before and any(before < sequence < after for sequence in sequences):
            return "skip"
        return "advance"

    @api.model
    def _backfill(self):
        """Rebuild the history, at install, from what Odoo already holds:
        creation (entering the first stage), crm's tracking of `stage_id`,
        `date_last_stage_update` for a last move that was not tracked, and
        `date_closed` for lost leads. One INSERT: on a large database this
        writes millions of rows into this table only, not into crm_lead.
        Amounts are the leads' current ones: Odoo does not keep them per move.
        Rows are not sorted on the way in: events of a lead at the very same
        instant keep no particular order.
        """
        stage_field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        self.env.cr.execute(
            SQL(
                """
                WITH leads AS MATERIALIZED (
                    SELECT id, create_date, create_uid, write_uid, stage_id, date_last_stage_update,
                           COALESCE(date_closed, write_date) AS date_closed, won_status,
                           user_id, team_id, company_id, expected_revenue, weighted_revenue
                      FROM crm_lead AS lead
                     -- leads that already have a history (made while installing, by demo
                     -- data) keep it
                     WHERE NOT EXISTS (SELECT 1 FROM sales_funnel_history AS known WHERE known.lead_id = lead.id)
                ), moves AS MATERIALIZED (
                    SELECT message.res_id AS lead_id, message.date, tracking.id AS tracking_id, message.create_uid,
                           tracking.old_value_integer AS from_stage, tracking.new_value_integer AS to_stage
                      FROM mail_tracking_value AS tracking
                      JOIN mail_message AS message ON message.id = tracking.mail_message_id
                      JOIN leads ON leads.id = message.res_id
                     WHERE tracking.field_id = %(stage_field)s AND message.model = 'crm.lead'
                ), ends AS (
                    -- the stage before the first tracked move, the stage after the last: one
                    -- sort of the moves (MIN/MAX over arrays would cost three times as much)
                    SELECT lead_id, first_stage, last_stage
                      FROM (SELECT lead_id,
                                   first_value(from_stage) OVER lead_moves AS first_stage,
                                   last_value(to_stage) OVER lead_moves AS last_stage,
                                   row_number() OVER lead_moves AS position
                              FROM moves
                            WINDOW lead_moves AS (PARTITION BY lead_id ORDER BY date, tracking_id
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                           ) AS ordered
                     WHERE position = 1
                ), events AS (
                    SELECT leads.id AS lead_id, leads.create_date AS date, NULL::int AS from_stage,
                           COALESCE(ends.first_stage, leads.stage_id) AS to_stage, 'enter' AS kind,
                           leads.create_uid AS changed_by
                      FROM leads
                      LEFT JOIN ends ON ends.lead_id = leads.id
                    UNION ALL
                    SELECT lead_id, date, from_stage, to_stage, NULL, create_uid
                      FROM moves
                    UNION ALL
                    SELECT leads.id, leads.date_last_stage_update, ends.last_stage, leads.stage_id, NULL,
                           leads.write_uid
                      FROM leads
                      JOIN ends ON ends.lead_id = leads.id
                     WHERE ends.last_stage IS DISTINCT FROM leads.stage_id AND leads.date_last_stage_update IS NOT NULL
                    UNION ALL
                    SELECT id, date_closed, stage_id, stage_id, 'lost', write_uid
                      FROM leads
                     WHERE won_status = 'lost'
                ), steps AS (
                    SELECT id, ROW_NUMBER() OVER (ORDER BY sequence, id) AS position FROM sales_funnel_step
                )
                INSERT INTO sales_funnel_history (
                    lead_id, date, kind, from_stage_id, to_stage_id, from_step_id, to_step_id, user_id, team_id,
                    company_id, expected_revenue, weighted_revenue, changed_by_id)
                SELECT event.lead_id, event.date,
                       COALESCE(event.kind, CASE
                           WHEN to_stage.is_won THEN 'won'
                           WHEN from_stage.is_won OR to_step.position < from_step.position THEN 'regress'
                           WHEN to_step.position = from_step.position THEN 'lateral'
                           WHEN to_step.position > from_step.position + 1 THEN 'skip'
                           ELSE 'advance' END),
                       from_stage.id, to_stage.id, from_stage.funnel_step_id, to_stage.funnel_step_id,
                       leads.user_id, leads.team_id, leads.company_id,
                       leads.expected_revenue, leads.weighted_revenue, event.changed_by
                  FROM events AS event
                  JOIN leads ON leads.id = event.lead_id
                  LEFT JOIN crm_stage AS from_stage ON from_stage.id = event.from_stage
                  LEFT JOIN crm_stage AS to_stage ON to_stage.id = event.to_stage
                  LEFT JOIN steps AS from_step ON from_step.id = from_stage.funnel_step_id
                  LEFT JOIN steps AS to_step ON to_step.id = to_stage.funnel_step_id
                 WHERE event.date IS NOT NULL
                """,
                stage_field=stage_field.id,
            )
        )
        self.invalidate_model()

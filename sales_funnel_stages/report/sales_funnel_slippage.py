"""Slippage: how often an opportunity's expected closing was pushed out, and its amount
changed, while it stayed in a funnel step; from the stage history's rows that know the
lead's values at its previous move. One SQL view in named parts."""

from odoo import fields, models
from odoo.tools import SQL


class SalesFunnelSlippage(models.Model):
    """One row per stay in a step that the history saw begin and end: a
    recorded move (or loss, restoration) of a lead that knows the amount and
    expected closing the lead had at its previous move, that is when the
    stay began. Rows rebuilt from crm's tracking know neither: a stay that
    began before the install is not counted."""

    _name = "sales.funnel.slippage"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Slippage"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    date = fields.Datetime(string="Left On", readonly=True, help="When the stay ended.")
    step_id = fields.Many2one("sales.funnel.step", string="Funnel Step", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    stay_count = fields.Integer(string="Stays", readonly=True, aggregator="sum")
    pushed_count = fields.Integer(
        string="Closing Pushed Out",
        readonly=True,
        aggregator="sum",
        help="Stays during which the expected closing moved later.",
    )
    pushed_rate = fields.Float(string="Pushed Out (%)", readonly=True, aggregator="avg")
    days_pushed = fields.Float(
        readonly=True,
        aggregator="avg",
        help="How much later, for the stays pushed out.",
    )
    amount_changed_count = fields.Integer(
        string="Amount Changed",
        readonly=True,
        aggregator="sum",
        help="Stays during which the amount changed.",
    )
    amount_changed_rate = fields.Float(string="Amount Changed (%)", readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        return SQL("%s %s %s", self._select(), self._from(), self._where())

    def _select(self):
        pushed = SQL("(history.date_deadline > history.previous_date_deadline)")
        changed = SQL("(history.expected_revenue IS DISTINCT FROM history.previous_expected_revenue)")
        return SQL(
            """
            SELECT history.id, history.lead_id, history.date, history.from_step_id AS step_id,
                   history.team_id, history.user_id, history.company_id,
                   1 AS stay_count,
                   COALESCE(%(pushed)s, FALSE)::int AS pushed_count,
                   CASE WHEN %(pushed)s THEN 100.0 ELSE 0.0 END AS pushed_rate,
                   CASE WHEN %(pushed)s THEN history.date_deadline - history.previous_date_deadline END
                       AS days_pushed,
                   %(changed)s::int AS amount_changed_count,
                   CASE WHEN %(changed)s THEN 100.0 ELSE 0.0 END AS amount_changed_rate
            """,
            pushed=pushed,
            changed=changed,
        )

    def _from(self):
        return SQL("FROM sales_funnel_history AS history")

    def _where(self):
        # a stay the history saw begin (the lead's values then are known); a
        # restoration ends the time the lead was lost, no stay
        return SQL(
            "WHERE history.previous_expected_revenue IS NOT NULL AND history.from_step_id IS NOT NULL"
            " AND history.kind <> 'restored'"
        )

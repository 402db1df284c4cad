"""The forecast by closing month: open opportunities weighted by their stage, won deals,
and the spread of the forecast, over the leads as they are now. One SQL view in
named parts; its band (low, likely, high) aggregates in SQL per group."""

import math

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, format_date

from ..periods import local_sql

# Months the workbook and the weekly mail forecast, the current one included
FORECAST_MONTHS = 3


class SalesFunnelForecast(models.Model):
    """One row per opportunity, open or won, in company currency.

    An open opportunity counts its weighted revenue (amount x the weight p of
    its stage) in the month of its expected closing; its uncertainty is the
    variance of a deal that closes with probability p: amount² x p x (1 - p).
    Deals close independently, so variances add: a group's spread is the
    square root of the sum of its rows' variances, and its band is likely ±
    spread, `likely` being the won amount plus the weighted open amount. An
    opportunity whose expected closing has passed is *overdue*, and one
    without a date *undated*: shown apart, in no month. A won deal counts in
    the month it was won.
    """

    _name = "sales.funnel.forecast"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Forecast"
    _auto = False
    _order = "month, lead_id"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    status = fields.Selection(
        [("won", "Won"), ("open", "Forecast"), ("overdue", "Overdue"), ("undated", "No closing date")],
        readonly=True,
        help="Overdue: open, its expected closing passed. Undated: open, without expected closing.",
    )
    month = fields.Date(
        string="Closing Month",
        readonly=True,
        help="Open: the month of the expected closing; won: the month won. Empty when overdue or undated.",
    )
    date = fields.Date(
        string="Closing Date",
        readonly=True,
        help="Open: the expected closing; won: the day won. Empty when overdue or undated.",
    )
    probability_weight = fields.Float(string="Stage Weight (%)", readonly=True, aggregator="avg")
    expected_revenue = fields.Float(string="Amount", readonly=True, aggregator="sum")
    won_amount = fields.Float(string="Won", readonly=True, aggregator="sum")
    weighted_amount = fields.Float(
        string="Weighted Open", readonly=True, aggregator="sum", help="Open amounts times their stage weight."
    )
    likely_amount = fields.Float(
        string="Likely", readonly=True, aggregator="sum", help="Won plus weighted open."
    )
    spread = fields.Float(
        string="Spread (±)",
        readonly=True,
        aggregator="sum",
        help="The forecast's standard deviation: the square root of the sum of amount² x p x (1 - p) over the "
        "open opportunities, p being the stage weight.",
    )
    low_amount = fields.Float(string="Low", readonly=True, aggregator="sum", help="Likely minus spread.")
    high_amount = fields.Float(string="High", readonly=True, aggregator="sum", help="Likely plus spread.")
    variance = fields.Float(readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            "SELECT *, likely_amount - spread AS low_amount, likely_amount + spread AS high_amount"
            " FROM (%s %s %s) AS rows",
            self._select(),
            self._from(),
            self._where(),
        )

    def _select(self):
        today = fields.Date.context_today(self)
        status = SQL(
            """CASE WHEN lead.won_status = 'won' THEN 'won'
                    WHEN lead.date_deadline IS NULL THEN 'undated'
                    WHEN lead.date_deadline < %s THEN 'overdue'
                    ELSE 'open' END""",
            today,
        )
        amount = SQL("COALESCE(lead.expected_revenue, 0)")
        weight = SQL("COALESCE(stage.funnel_weight, 0) / 100.0")
        variance = SQL(
            "CASE WHEN lead.won_status = 'won' THEN 0 ELSE %s * %s * %s * (1 - %s) END",
            amount,
            amount,
            weight,
            weight,
        )
        return SQL(
            """
            SELECT lead.id, lead.id AS lead_id, lead.company_id, lead.team_id, lead.user_id, lead.stage_id,
                   %(status)s AS status,
                   date_trunc('month', %(closing)s)::date AS month,
                   (%(closing)s)::date AS date,
                   COALESCE(stage.funnel_weight, 0) AS probability_weight,
                   %(amount)s AS expected_revenue,
                   CASE WHEN lead.won_status = 'won' THEN %(amount)s ELSE 0 END AS won_amount,
                   CASE WHEN lead.won_status = 'won' THEN 0 ELSE COALESCE(lead.weighted_revenue, 0) END
                       AS weighted_amount,
                   CASE WHEN lead.won_status = 'won' THEN %(amount)s ELSE COALESCE(lead.weighted_revenue, 0) END
                       AS likely_amount,
                   %(variance)s AS variance,
                   SQRT(%(variance)s) AS spread
            """,
            status=status,
            # the reader's day, as today's
            closing=SQL(
                "CASE WHEN lead.won_status = 'won' THEN %s WHEN lead.date_deadline >= %s THEN lead.date_deadline END",
                local_sql(self.env, SQL("lead.date_closed")),
                today,
            ),
            amount=amount,
            variance=variance,
        )

    def _from(self):
        return SQL("FROM crm_lead AS lead LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id")

    def _where(self):
        # lost deals are archived: open and won opportunities
        return SQL(
            "WHERE lead.type = 'opportunity' AND lead.active AND lead.won_status IN ('pending', 'won')"
        )

    def _read_group_select(self, aggregate_spec, query):
        """A group's spread is the square root of its summed variances (not
        the sum of its rows' spreads); its band is likely ± that spread."""
        fname, _sep, _func = aggregate_spec.partition(":")
        if fname in ("spread", "low_amount", "high_amount"):
            spread = SQL("SQRT(SUM(%s))", self._field_to_sql(self._table, "variance", query))
            likely = SQL("SUM(%s)", self._field_to_sql(self._table, "likely_amount", query))
            band = {
                "spread": spread,
                "low_amount": SQL("%s - %s", likely, spread),
                "high_amount": SQL("%s + %s", likely, spread),
            }
            return band[fname]
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------ API

    @api.model
    @api.readonly
    def get_forecast(self, domain, factors=None, months=FORECAST_MONTHS):
        """The forecast as the workbook and the weekly mail show it: one line
        per month from the current one, then the overdue and the undated
        opportunities apart. Amounts are converted by `factors` ({company id:
        factor}, see `sales.funnel.export._currency_factors`): variances by
        its square. Lines: {label, won, weighted, likely, spread, low, high,
        count}."""
        months = max(1, min(int(months), 24))
        first = fields.Date.context_today(self).replace(day=1)
        last = first + relativedelta(months=months)
        groups = self._read_group(
            Domain(domain)
            & (
                Domain("status", "in", ("overdue", "undated"))
                | (Domain("month", ">=", first) & Domain("month", "<", last))
            ),
            ["status", "month:month", "company_id"],
            ["won_amount:sum", "weighted_amount:sum", "variance:sum", "__count"],
        )
        sums = {}
        for status, month, company, won, weighted, variance, count in groups:
            factor = (factors or {}).get(company.id, 1.0)
            key = month if status in ("open", "won") else status
            line = sums.setdefault(key, [0.0, 0.0, 0.0, 0])
            line[0] += won * factor
            line[1] += weighted * factor
            line[2] += variance * factor * factor
            line[3] += count
        labels = self._fields["status"]._description_selection(self.env)
        keys = [(first + relativedelta(months=index), None) for index in range(months)]
        keys += [(status, dict(labels)[status]) for status in ("overdue", "undated")]
        lines = []
        for key, label in keys:
            won, weighted, variance, count = sums.get(key, (0.0, 0.0, 0.0, 0))
            spread = math.sqrt(variance)
            likely = won + weighted
            lines.append(
                {
                    "label": label or format_date(self.env, key, date_format="MMMM y"),
                    "won": won,
                    "weighted": weighted,
                    "likely": likely,
                    "spread": spread,
                    "low": likely - spread,
                    "high": likely + spread,
                    "count": count,
                    "apart": bool(label),
                }
            )
        return lines

"""The influence funnel (funnel method, section 1; seed 004): after the win, per year,
won customers -> customers with a repeat or renewal deal (continuation) -> customers
who referred someone (sharing) -> the leads they referred -> those won (spreading).
One SQL view in named parts."""

from odoo import fields, models
from odoo.tools import SQL

from ..periods import local_sql

LEVELS = [
    ("1_won", "Won customers"),
    ("2_repeat", "Repeat or renewal"),
    ("3_referrers", "Customers who referred"),
    ("4_referred", "Referred leads"),
    ("5_referred_won", "Referred deals won"),
]


class SalesFunnelInfluence(models.Model):
    """One row per company, year and level. The year is that of the
    customers' wins: a customer won that year counts once; its repeat or
    renewal deal is another opportunity (won or open) of the same company
    created after its first win of the year; a lead naming it as referring
    customer (lost ones included) counts in the year of its latest win
    before the lead, in the lead's company, once. Unlike the buying funnel,
    counts may grow along it: a customer refers many."""

    _name = "sales.funnel.influence"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Influence"
    _auto = False
    _order = "year desc, level"
    _rec_name = "level"

    company_id = fields.Many2one("res.company", readonly=True)
    year = fields.Date(readonly=True, help="The year the customers were won.")
    level = fields.Selection(LEVELS, readonly=True)
    count = fields.Integer(readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL("WITH %s %s", self._customers(), self._select())

    def _customers(self):
        """The year's won customers (in the reader's time zone), their first
        win; their repeat deals; the leads they referred, each counted in the
        year of its referrer's latest win before it, in the same company."""
        closed = local_sql(self.env, SQL("lead.date_closed"))
        return SQL(
            """
            won AS (
                SELECT lead.company_id, lead.partner_id, date_trunc('year', %(closed)s)::date AS year,
                       MIN(lead.date_closed) AS first_won,
                       (ARRAY_AGG(lead.id ORDER BY lead.date_closed, lead.id))[1] AS first_deal_id
                  FROM crm_lead AS lead
                 WHERE lead.won_status = 'won' AND lead.type = 'opportunity' AND lead.partner_id IS NOT NULL
                   AND lead.date_closed IS NOT NULL
                 GROUP BY lead.company_id, lead.partner_id, date_trunc('year', %(closed)s)
            ),
            repeat AS (
                SELECT won.* FROM won
                 WHERE EXISTS (SELECT 1 FROM crm_lead AS other
                                WHERE other.partner_id = won.partner_id AND other.type = 'opportunity'
                                  AND other.company_id IS NOT DISTINCT FROM won.company_id
                                  AND other.won_status IN ('won', 'pending') AND other.create_date > won.first_won
                                  AND other.id <> won.first_deal_id)
            ),
            referred AS (
                SELECT won.company_id, won.partner_id, won.year, lead.won_status = 'won' AS is_won
                  FROM crm_lead AS lead
                  JOIN LATERAL (
                        SELECT * FROM won
                         WHERE won.partner_id = lead.funnel_referred_by_id
                           AND won.company_id IS NOT DISTINCT FROM lead.company_id
                           AND won.first_won < lead.create_date
                         ORDER BY won.first_won DESC
                         LIMIT 1
                       ) AS won ON TRUE
                 WHERE lead.funnel_referred_by_id IS NOT NULL
            )
            """,
            closed=closed,
        )

    def _select(self):
        return SQL(
            """
            SELECT (COALESCE(levels.company_id, 0)::bigint * 100000 + EXTRACT(YEAR FROM levels.year)::int) * 10
                   + LEFT(levels.level, 1)::int AS id, levels.*
              FROM (
                SELECT company_id, year, '1_won' AS level, COUNT(*) AS count FROM won GROUP BY company_id, year
                UNION ALL
                SELECT company_id, year, '2_repeat', COUNT(*) FROM repeat GROUP BY company_id, year
                UNION ALL
                SELECT company_id, year, '3_referrers', COUNT(DISTINCT partner_id) FROM referred
                 GROUP BY company_id, year
                UNION ALL
                SELECT company_id, year, '4_referred', COUNT(*) FROM referred GROUP BY company_id, year
                UNION ALL
                SELECT company_id, year, '5_referred_won', COUNT(*) FILTER (WHERE is_won) FROM referred
                 GROUP BY company_id, year
              ) AS levels
            """
        )

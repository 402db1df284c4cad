"""The influence funnel (funnel method, section 1; seed 004): after the win, per year,
won customers -> customers with a repeat or renewal deal (continuation) -> customers
who referred someone (sharing) -> the leads they referred -> those won (spreading).
One SQL view in named parts."""

from odoo import fields, models
from odoo.tools import SQL

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
    renewal deal is another opportunity (won or open) created after its
    first win of the year; its referrals are the leads naming it as
    referring customer created after that win, lost ones included. Unlike
    the buying funnel, counts may grow along it: a customer refers many."""

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
        """The year's won customers, their first win; their repeat deals; the
        leads they referred."""
        return SQL(
            """
            won AS (
                SELECT lead.company_id, lead.partner_id, date_trunc('year', lead.date_closed)::date AS year,
                       MIN(lead.date_closed) AS first_won,
                       (ARRAY_AGG(lead.id ORDER BY lead.date_closed, lead.id))[1] AS first_deal_id
                  FROM crm_lead AS lead
                 WHERE lead.won_status = 'won' AND lead.type = 'opportunity' AND lead.partner_id IS NOT NULL
                   AND lead.date_closed IS NOT NULL
                 GROUP BY lead.company_id, lead.partner_id, date_trunc('year', lead.date_closed)
            ),
            repeat AS (
                SELECT won.* FROM won
                 WHERE EXISTS (SELECT 1 FROM crm_lead AS other
                                WHERE other.partner_id = won.partner_id AND other.type = 'opportunity'
                                  AND other.won_status IN ('won', 'pending') AND other.create_date > won.first_won
                                  AND other.id <> won.first_deal_id)
            ),
            referred AS (
                SELECT won.company_id, won.partner_id, won.year, lead.won_status = 'won' AS is_won
                  FROM won
                  JOIN crm_lead AS lead ON lead.funnel_referred_by_id = won.partner_id
                                       AND lead.create_date > won.first_won
            )
            """
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

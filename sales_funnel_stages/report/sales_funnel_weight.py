"""Measured weights: each step's win rate from the per-lead summary, beside the weight
its stages declare, per company and sales team; drift flagged past the company's
thresholds. One SQL view in named parts; the adoption by a team is on `crm.team`."""

from odoo import fields, models
from odoo.tools import SQL

from ..definitions import WON_STEP

# Row ids: team, company and step packed, stable from one query to the next:
# steps below 65,536, companies below 1,048,576, teams below 131,072 (the web
# client's integers end at 2**53).
TEAM_STRIDE = 1 << 36
COMPANY_STRIDE = 1 << 16


class SalesFunnelWeight(models.Model):
    """One row per company, sales team and funnel step: the opportunities
    that entered the step in the company's window (`funnel_weight_months`),
    how many of them are won, lost and still open, and the share won of
    those decided (won or lost), against the weight the team's stages of
    that step declare (their mean; the step's own weight where the team has
    none). A win rate measured on fewer decided opportunities than the
    company's floor is shown, never flagged."""

    _name = "sales.funnel.weight"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Measured Weight"
    _auto = False
    _order = "company_id, team_id, step_sequence"
    _rec_name = "step_id"

    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    step_id = fields.Many2one("sales.funnel.step", string="Funnel Step", readonly=True)
    step_sequence = fields.Integer(readonly=True)
    reached_count = fields.Integer(
        string="Reached",
        readonly=True,
        aggregator="sum",
        help="Opportunities that entered the step in the window.",
    )
    won_count = fields.Integer(string="Won", readonly=True, aggregator="sum")
    lost_count = fields.Integer(string="Lost", readonly=True, aggregator="sum")
    open_count = fields.Integer(string="Open", readonly=True, aggregator="sum")
    decided_count = fields.Integer(
        string="Decided",
        readonly=True,
        aggregator="sum",
        help="Won or lost: the sample of the measured rate.",
    )
    declared_weight = fields.Float(
        string="Declared Weight (%)",
        readonly=True,
        aggregator="avg",
        help="The weight of the team's stages of this step (their mean if they differ).",
    )
    measured_weight = fields.Float(
        string="Measured Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Of the opportunities that entered the step in the window and are decided, the share won.",
    )
    drift = fields.Float(
        string="Drift (Points)",
        readonly=True,
        aggregator=False,
        help="Measured win rate minus declared weight.",
    )
    is_drifting = fields.Boolean(
        string="Drifting",
        readonly=True,
        help="The measured win rate differs from the declared weight by more than the company's threshold, "
        "on at least its minimum of decided opportunities.",
    )

    @property
    def _table_query(self):
        return SQL(
            "WITH measured AS (%s), declared AS (%s) %s %s",
            self._measured(),
            self._declared(),
            self._select(),
            self._from(),
        )

    def _measured(self):
        """Per company, team and step: the opportunities that entered the
        step in the window, by what became of them (the summary's state of
        the lead: won, open, else lost)."""
        return SQL(
            """
            SELECT summary.company_id, summary.team_id, summary.step_id,
                   COUNT(*) AS reached_count,
                   COUNT(*) FILTER (WHERE summary.won) AS won_count,
                   COUNT(*) FILTER (WHERE NOT summary.won AND NOT summary.lead_open) AS lost_count,
                   COUNT(*) FILTER (WHERE summary.lead_open) AS open_count
              FROM sales_funnel_lead_step AS summary
              LEFT JOIN res_company AS company ON company.id = summary.company_id
             WHERE summary.lead_type = 'opportunity'
               AND summary.date_entered >= (NOW() AT TIME ZONE 'UTC')
                   - make_interval(months => COALESCE(company.funnel_weight_months, 12))
               -- the longest window of all companies: a bound the date index serves
               AND summary.date_entered >= (NOW() AT TIME ZONE 'UTC') - make_interval(
                   months => (SELECT COALESCE(MAX(funnel_weight_months), 12) FROM res_company))
             GROUP BY summary.company_id, summary.team_id, summary.step_id
            """
        )

    def _declared(self):
        """Per team (none: the stages shared by all) and step: the mean
        weight of the stages of its pipeline mapped to the step."""
        return SQL(
            """
            SELECT team.id AS team_id, stage.funnel_step_id AS step_id, AVG(stage.funnel_weight) AS weight
              FROM crm_stage AS stage
             CROSS JOIN (SELECT id FROM crm_team UNION ALL SELECT NULL) AS team
             WHERE stage.funnel_step_id IS NOT NULL
               AND (NOT EXISTS (SELECT 1 FROM crm_stage_crm_team_rel AS rel WHERE rel.crm_stage_id = stage.id)
                    OR EXISTS (SELECT 1 FROM crm_stage_crm_team_rel AS rel
                                WHERE rel.crm_stage_id = stage.id AND rel.crm_team_id = team.id))
             GROUP BY team.id, stage.funnel_step_id
            """
        )

    def _select(self):
        rate = SQL("100.0 * measured.won_count / NULLIF(measured.won_count + measured.lost_count, 0)")
        declared = SQL("COALESCE(declared.weight, step.weight)")
        return SQL(
            """
            SELECT (COALESCE(measured.team_id, 0)::bigint * %(team_stride)s
                    + COALESCE(measured.company_id, 0) * %(company_stride)s + measured.step_id) AS id,
                   measured.company_id, measured.team_id, measured.step_id, step.sequence AS step_sequence,
                   measured.reached_count, measured.won_count, measured.lost_count, measured.open_count,
                   measured.won_count + measured.lost_count AS decided_count,
                   %(declared)s AS declared_weight,
                   %(rate)s AS measured_weight,
                   %(rate)s - %(declared)s AS drift,
                   COALESCE(measured.won_count + measured.lost_count
                                >= COALESCE(company.funnel_weight_min_decided, 30)
                            AND ABS(%(rate)s - %(declared)s) > COALESCE(company.funnel_weight_drift_points, 15),
                            FALSE) AS is_drifting
            """,
            team_stride=TEAM_STRIDE,
            company_stride=COMPANY_STRIDE,
            declared=declared,
            rate=rate,
        )

    def _from(self):
        return SQL(
            """
              FROM measured
              JOIN sales_funnel_step AS step ON step.id = measured.step_id
              LEFT JOIN res_company AS company ON company.id = measured.company_id
              LEFT JOIN declared ON declared.step_id = measured.step_id
                                AND declared.team_id IS NOT DISTINCT FROM measured.team_id
            """
        )

    def flush_model(self, fnames=None):
        # the stages' weights and the companies' thresholds are read in SQL too
        self.env["crm.stage"].flush_model(["funnel_weight", "funnel_step_id", "team_ids"])
        self.env["res.company"].flush_model(
            ["funnel_weight_months", "funnel_weight_drift_points", "funnel_weight_min_decided"]
        )
        return super().flush_model(fnames)

    def _read_group_select(self, aggregate_spec, query):
        """A group's measured win rate is its won over its decided, not the
        mean of its rows' rates."""
        if aggregate_spec == "measured_weight:avg":
            won = self._field_to_sql(self._table, "won_count", query)
            decided = self._field_to_sql(self._table, "decided_count", query)
            return SQL("100.0 * SUM(%s) / NULLIF(SUM(%s), 0)", won, decided)
        return super()._read_group_select(aggregate_spec, query)

    def _adoptable(self):
        """The rows a team may adopt: measured on enough decided
        opportunities, of steps that are not won (a won stage weighs 100)."""
        return self.filtered(
            lambda row: (
                row.decided_count >= (row.company_id.funnel_weight_min_decided or 30)
                and row.step_id.code != WON_STEP
            )
        )

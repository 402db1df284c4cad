from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "sales.funnel.finite.mixin"]

    # Funnel method, section 5: what is "big" and what is "short" is the
    # company's call; these defaults match the report's 30,000 size bucket
    # edge and a quarter.
    funnel_tier_big_amount = fields.Monetary(
        string="Big Opportunity From",
        currency_field="currency_id",
        default=30000.0,
        help="Opportunities with an expected revenue at or above this amount are big (tiers A and C).",
    )
    funnel_tier_short_days = fields.Integer(
        string="Short Close Within (Days)",
        default=90,
        help="Opportunities expected to close within this many days are short (tiers A and B); "
        "without an expected closing date an opportunity is long.",
    )

    # Deal-size buckets of the funnel analysis (funnel method, section 3):
    # small < edge 1 <= medium < edge 2 <= large < edge 3 <= very large.
    funnel_size_edge_1 = fields.Monetary(
        string="Small Deals Below", currency_field="currency_id", default=10000.0
    )
    funnel_size_edge_2 = fields.Monetary(
        string="Medium Deals Below", currency_field="currency_id", default=30000.0
    )
    funnel_size_edge_3 = fields.Monetary(
        string="Large Deals Below", currency_field="currency_id", default=50000.0
    )

    # Funnel health diagnosis (funnel method, section 8) and planning
    # (section 3); see sales.funnel.diagnosis and sales.funnel.plan.
    funnel_health_months = fields.Integer(
        string="Closing Window (Months)",
        default=6,
        help="Lumpy closing and deals won without funnel history look at the deals won in this many "
        "calendar months, the current one included.",
    )
    funnel_health_lumpy_share = fields.Float(
        string="Lumpy Closing Above (%)",
        default=50.0,
        help="Warn when a single month holds more than this share of the amount won in the closing window.",
    )
    funnel_health_min_open = fields.Integer(
        string="Minimum Active Opportunities",
        default=15,
        help="Warn when a salesperson follows fewer open opportunities than this (a team: fewer than this "
        "many per member).",
    )
    funnel_health_busy_ratio = fields.Float(
        string="Busy: Activities per Opportunity Above",
        default=5.0,
        help="Busy but empty: more activities than this per open opportunity (planned ones, and those "
        "done in the activity window), while the opportunities are fewer than the minimum.",
    )
    funnel_health_activity_days = fields.Integer(
        string="Activity Window (Days)",
        default=30,
        help="Activities done in this many past days count as busy, beside the planned ones.",
    )
    funnel_health_small_share = fields.Float(
        string="Minimum Small Deals (%)",
        default=10.0,
        help="Warn when fewer than this share of the open opportunities with an amount are small deals "
        "(below the first deal-size edge).",
    )
    funnel_health_idle_days = fields.Integer(
        string="Disqualify When Idle For (Days)",
        default=30,
        help="An open opportunity without planned activity, stage change, message or activity done for "
        "more than this many days is a disqualify candidate, like one of MAN class m+a+n.",
    )
    funnel_plan_min_transitions = fields.Integer(
        string="Measured Conversions From",
        default=20,
        help="The planner proposes a step's measured conversion (last 12 months) once at least this many "
        "opportunities left the step, forward or lost; below that, the conversion derived from the "
        "stage weights.",
    )
    # Measured weights (sales.funnel.weight): the win rate of each step
    # against its declared weight.
    funnel_weight_months = fields.Integer(
        string="Measured Over (Months)",
        default=12,
        help="A step's measured win rate counts the opportunities that entered it in this many past months.",
    )
    funnel_weight_drift_points = fields.Float(
        string="Drift Above (Points)",
        default=15.0,
        help="Flag a step whose measured win rate differs from its declared weight by more than this many "
        "percentage points.",
    )
    funnel_weight_min_decided = fields.Integer(
        string="Drift From (Decided Opportunities)",
        default=30,
        help="Flag drift, and let a team adopt a measured weight, once at least this many of the step's "
        "opportunities are won or lost.",
    )

    @api.constrains("funnel_weight_months", "funnel_weight_drift_points", "funnel_weight_min_decided")
    def _check_funnel_weight_thresholds(self):
        for company in self:
            if company.funnel_weight_months < 1 or company.funnel_weight_min_decided < 1:
                raise ValidationError(
                    self.env._(
                        "The measured weights of %(company)s need a window of at least one month and at least "
                        "one decided opportunity.",
                        company=company.name,
                    )
                )
            if not 0 <= company.funnel_weight_drift_points <= 100:
                raise ValidationError(
                    self.env._(
                        "The drift threshold of %(company)s must be between 0 and 100 points.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "funnel_health_months",
        "funnel_health_lumpy_share",
        "funnel_health_min_open",
        "funnel_health_busy_ratio",
        "funnel_health_activity_days",
        "funnel_health_small_share",
        "funnel_health_idle_days",
        "funnel_plan_min_transitions",
    )
    def _check_funnel_health_thresholds(self):
        for company in self:
            if company.funnel_health_months < 1:
                raise ValidationError(
                    self.env._(
                        "The closing window of %(company)s must be at least one month.", company=company.name
                    )
                )
            if not (
                0 <= company.funnel_health_lumpy_share <= 100
                and 0 <= company.funnel_health_small_share <= 100
            ):
                raise ValidationError(
                    self.env._(
                        "The lumpy closing and small deal shares of %(company)s must be between 0 and 100.",
                        company=company.name,
                    )
                )
            counts = [
                company.funnel_health_min_open,
                company.funnel_health_busy_ratio,
                company.funnel_health_activity_days,
                company.funnel_health_idle_days,
                company.funnel_plan_min_transitions,
            ]
            if min(counts) < 0:
                raise ValidationError(
                    self.env._(
                        "The funnel health thresholds of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains("funnel_size_edge_1", "funnel_size_edge_2", "funnel_size_edge_3")
    def _check_funnel_size_edges(self):
        for company in self:
            edges = [company.funnel_size_edge_1, company.funnel_size_edge_2, company.funnel_size_edge_3]
            if edges[0] <= 0 or edges != sorted(set(edges)):
                raise ValidationError(
                    self.env._(
                        "The deal-size edges of %(company)s must be positive and increasing.",
                        company=company.name,
                    )
                )

    @api.constrains("funnel_tier_big_amount", "funnel_tier_short_days")
    def _check_funnel_tier_thresholds(self):
        for company in self:
            if company.funnel_tier_big_amount < 0 or company.funnel_tier_short_days < 0:
                raise ValidationError(
                    self.env._(
                        "The tier thresholds of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    def write(self, vals):
        result = super().write(vals)
        if {"funnel_tier_big_amount", "funnel_tier_short_days"} & set(vals):
            self.env["crm.lead"]._funnel_refresh_values(
                SQL(
                    "COALESCE(lead.company_id, %s) IN %s",
                    self.env["crm.lead"]._funnel_tier_company().id,
                    tuple(self.ids),
                )
            )
        return result

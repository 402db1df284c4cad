"""The reverse-funnel plan: its inputs, the defaults measured from the history and its
checks. Its lines (steps, sizes, members, coverage) are models of their own beside it;
what stays here is what a plan computes of itself."""

import math
from itertools import pairwise

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Command, Domain
from odoo.tools import date_utils, float_compare

from ..definitions import DEAL_SIZES, WON_STEP
from ..periods import days_domain

PLAN_MODES = [
    ("deals", "Deal plan per size bucket"),
    ("mix", "Average deal size and size mix"),
    ("average", "Average deal size"),
]
# History the planner's defaults come from: the won deals and the step
# conversions of the last twelve months.
HISTORY_MONTHS = 12


FORECAST_FIELDS = [
    "forecast_won", "forecast_open", "forecast_likely", "forecast_spread", "forecast_overdue",
    "forecast_overdue_count",
]  # fmt: skip


def required_before(required_next, conversion):
    """Funnel method, section 3: the opportunities a step needs so that
    `required_next` reach the next step at `conversion` percent, rounded up.
    Rounded to six decimals first, so that binary floating point noise
    (51 / 0.5 = 102.00000000000001) does not add an opportunity."""
    if conversion <= 0:
        return 0
    return math.ceil(round(required_next * 100.0 / conversion, 6))


class SalesFunnelPlan(models.Model):
    """Reverse funnel (funnel method, section 3): from a revenue target to
    the deals it takes and the opportunities each funnel step needs, next to
    what the team (or one salesperson) has now.

    Percentages are step-to-step conversion rates: required(step) =
    ceil(required(next step) / conversion(step -> next step)), from the won
    step backwards. Deals needed are the deal plan's count, or ceil(target /
    average deal size).
    """

    _name = "sales.funnel.plan"
    _inherit = ["sales.funnel.finite.mixin"]
    _description = "Sales Funnel Plan"
    _order = "date_from desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True, readonly=False, required=True, precompute=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", required=True, check_company=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        help="Plan for one salesperson of the team: what they have now is compared. Empty: the whole team, "
        "split among its members.",
    )
    company_id = fields.Many2one(
        "res.company", compute="_compute_company_id", store=True, readonly=False, precompute=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(string="From", required=True, default=lambda self: self._default_period()[0])
    date_to = fields.Date(string="To", required=True, default=lambda self: self._default_period()[1])
    target_amount = fields.Monetary(string="Revenue Target")
    plan_mode = fields.Selection(
        PLAN_MODES,
        string="Deals From",
        required=True,
        default="average",
        help="Deal plan per size bucket: the deals needed are the counts entered per bucket (they need not "
        "follow from the target). Average deal size: target / average deal size, rounded up; with a size "
        "mix, these deals are split among the buckets by the mix.",
    )
    average_deal_size = fields.Monetary(
        compute="_compute_average_deal_size",
        store=True,
        readonly=False,
        help="By default the average of the team's (salesperson's) deals won in the last 12 months.",
    )
    history_average_deal_size = fields.Monetary(
        string="Won Average, Last 12 Months", compute="_compute_history_average_deal_size"
    )
    history_won_count = fields.Integer(
        string="Won, Last 12 Months", compute="_compute_history_average_deal_size"
    )
    deals_needed = fields.Integer(
        compute="_compute_deals_needed",
        store=True,
        help="Deals to sign: the deal plan's count, or the target divided by the average deal size, "
        "rounded up.",
    )
    reference_date_from = fields.Date(
        string="Historical Mix From",
        compute="_compute_reference_dates",
        store=True,
        readonly=False,
        help="Period of the won deals whose size mix is shown beside the plan; by default the plan's "
        "period a year earlier.",
    )
    reference_date_to = fields.Date(
        string="Historical Mix To", compute="_compute_reference_dates", store=True, readonly=False
    )
    size_ids = fields.One2many(
        "sales.funnel.plan.size",
        "plan_id",
        string="Deal Sizes",
        copy=True,
        default=lambda self: [Command.create({"deal_size": size}) for size, _label in DEAL_SIZES],
    )
    step_ids = fields.One2many(
        "sales.funnel.plan.step",
        "plan_id",
        string="Funnel Steps",
        copy=True,
        default=lambda self: [
            Command.create({"step_id": step.id}) for step in self.env["sales.funnel.step"].search([])
        ],
    )
    member_ids = fields.One2many("sales.funnel.plan.member", "plan_id", string="Salespeople", copy=True)

    # The period's forecast (sales.funnel.forecast), against the target
    forecast_won = fields.Monetary(string="Won to Date", compute="_compute_forecast")
    forecast_open = fields.Monetary(
        string="Weighted Open", compute="_compute_forecast", help="Open opportunities expected to close in the "
        "period (from today), times their stage weight."
    )  # fmt: skip
    forecast_likely = fields.Monetary(
        string="Likely", compute="_compute_forecast", help="Won plus weighted open."
    )
    forecast_spread = fields.Monetary(
        string="Spread (±)",
        compute="_compute_forecast",
        help="The forecast's standard deviation: the square root of the sum of amount² x p x (1 - p) over the "
        "open opportunities of the period, p being the stage weight.",
    )
    forecast_overdue = fields.Monetary(
        string="Overdue (Weighted)",
        compute="_compute_forecast",
        help="Open opportunities whose expected closing has passed, weighted: in no month until their date is "
        "set again.",
    )
    forecast_overdue_count = fields.Integer(string="Overdue Opportunities", compute="_compute_forecast")
    coverage_ids = fields.One2many("sales.funnel.plan.coverage", "plan_id", string="Coverage by Salesperson")

    # ------------------------------------------------------------ defaults

    @api.model
    def _default_period(self):
        return date_utils.get_quarter(fields.Date.context_today(self))

    @api.depends("team_id", "user_id", "date_from", "date_to")
    def _compute_name(self):
        for plan in self:
            if not plan.team_id or not plan.date_from or not plan.date_to:
                plan.name = plan.name or False
                continue
            plan.name = self.env._(
                "%(who)s, %(start)s to %(end)s",
                who=plan.user_id.name or plan.team_id.name,
                start=plan.date_from.isoformat(),
                end=plan.date_to.isoformat(),
            )

    @api.depends("team_id")
    def _compute_company_id(self):
        for plan in self:
            plan.company_id = plan.team_id.company_id or plan.company_id or self.env.company

    @api.depends("date_from", "date_to")
    def _compute_reference_dates(self):
        for plan in self:
            plan.reference_date_from = plan.date_from and plan.date_from - relativedelta(years=1)
            plan.reference_date_to = plan.date_to and plan.date_to - relativedelta(years=1)

    @api.depends("team_id", "user_id")
    def _compute_average_deal_size(self):
        for plan in self:
            count, amount = plan._won_history()
            plan.average_deal_size = plan.currency_id.round(amount / count) if count else 0.0

    @api.depends("team_id", "user_id")
    def _compute_history_average_deal_size(self):
        for plan in self:
            count, amount = plan._won_history()
            plan.history_won_count = count
            plan.history_average_deal_size = amount / count if count else 0.0

    @api.depends("plan_mode", "target_amount", "average_deal_size", "size_ids.deal_count")
    def _compute_deals_needed(self):
        for plan in self:
            if plan.plan_mode == "deals":
                plan.deals_needed = sum(plan.size_ids.mapped("deal_count"))
            elif plan.average_deal_size > 0:
                plan.deals_needed = math.ceil(round(plan.target_amount / plan.average_deal_size, 6))
            else:
                plan.deals_needed = 0

    @api.depends("team_id", "user_id", "date_from", "date_to")
    @api.depends_context("uid", "allowed_company_ids")  # what the reader's rules let them see
    def _compute_forecast(self):
        Forecast = self.env["sales.funnel.forecast"]
        for plan in self:
            scope = (
                plan._scope_domain() & Domain("company_id", "=", plan.company_id.id) if plan.team_id else None
            )
            if not scope or not plan.date_from or not plan.date_to:
                plan.update(dict.fromkeys(FORECAST_FIELDS, 0))
                continue
            [(won, weighted, spread)] = Forecast._read_group(
                scope & Domain("date", ">=", plan.date_from) & Domain("date", "<=", plan.date_to),
                aggregates=["won_amount:sum", "weighted_amount:sum", "spread:sum"],
            )
            [(overdue, overdue_count)] = Forecast._read_group(
                scope & Domain("status", "=", "overdue"), aggregates=["weighted_amount:sum", "__count"]
            )
            plan.forecast_won, plan.forecast_open, plan.forecast_spread = won or 0, weighted or 0, spread or 0
            plan.forecast_likely = plan.forecast_won + plan.forecast_open
            plan.forecast_overdue, plan.forecast_overdue_count = overdue or 0, overdue_count

    def action_open_forecast(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_stages.sales_funnel_forecast_action"
        )
        action["domain"] = [("team_id", "=", self.team_id.id)]
        if self.user_id:
            action["domain"].append(("user_id", "=", self.user_id.id))
        action["context"] = {"search_default_groupby_month": 1}
        return action

    # ------------------------------------------------------------ history

    def _scope_domain(self, prefix=""):
        """The plan's opportunities: its team's, or its salesperson's in the team."""
        self.ensure_one()
        domain = Domain(f"{prefix}team_id", "=", self.team_id.id)
        if self.user_id:
            domain &= Domain(f"{prefix}user_id", "=", self.user_id.id)
        return domain

    def _history_start(self):
        return fields.Datetime.now() - relativedelta(months=HISTORY_MONTHS)

    def _won_history(self):
        """(count, amount) of the deals won in the last 12 months, from the
        funnel analysis (one row per won lead: its first step)."""
        self.ensure_one()
        if not self.team_id:
            return 0, 0.0
        domain = self._scope_domain() & Domain(
            [("is_first", "=", True), ("won_count", "=", 1), ("date_won", ">=", self._history_start())]
        )
        report = self.env["sales.funnel.report"].sudo().with_company(self.company_id or self.env.company)
        [(count, amount)] = report._read_group(domain, [], ["__count", "expected_revenue:sum_currency"])
        return count, amount or 0.0

    def _historical_mix(self):
        """{deal size: count} of the deals won in the reference period."""
        self.ensure_one()
        if not (self.team_id and self.reference_date_from and self.reference_date_to):
            return {}
        domain = (
            self._scope_domain()
            & Domain(
                [
                    ("is_first", "=", True),
                    ("won_count", "=", 1),
                    ("expected_revenue", ">", 0),
                ]
            )
            & days_domain("date_won", self.env, self.reference_date_from, self.reference_date_to)
        )
        rows = self.env["sales.funnel.report"].sudo()._read_group(domain, ["deal_size"], ["__count"])
        return dict(rows)

    def _stage_weights(self):
        """{step: weight} of the team's pipeline: the lightest of the stages
        mapped onto each step (the weight on entering it), the team's own
        stages before the shared ones, else the step's default weight; the
        won step weighs 100."""
        self.ensure_one()
        steps = self.env["sales.funnel.step"].search([])
        stages = self.env["crm.stage"]._funnel_pipeline(self.team_id).filtered(lambda stage: not stage.is_won)
        weights = {}
        for step in steps:
            mapped = stages.filtered(lambda stage, step=step: stage.funnel_step_id == step)
            mapped = mapped.filtered("team_ids") or mapped  # the team's own stages first
            weights[step] = min(mapped.mapped("funnel_weight")) if mapped else step.weight
        won_step = steps.filtered(lambda step: step.code == WON_STEP)
        if won_step:
            weights[won_step] = 100.0
        return weights

    def _conversion_defaults(self):
        """{step id: values} of each step but the last: the conversion to
        the next step measured over the last 12 months (opportunities that
        left the step: advanced ÷ advanced or lost), with its base, and the
        one derived from the stage weights (weight k ÷ weight k+1). The
        plan's lines take one of them (`sales.funnel.plan.step.
        _default_conversion`)."""
        self.ensure_one()
        steps = self.env["sales.funnel.step"].search([])
        measured = {}
        if self.team_id:
            domain = self._scope_domain() & Domain("date", ">=", self._history_start())
            report = self.env["sales.funnel.report"].sudo()
            measured = {line["step_id"]: line for line in report.get_funnel(list(domain))}
        weights = self._stage_weights() if self.team_id else {step: step.weight for step in steps}
        result = {}
        for step, next_step in pairwise(steps):
            line = measured.get(step.id, {})
            if weights[step] > 0 and weights[next_step] > 0:
                weight_rate = round(min(100.0, 100.0 * weights[step] / weights[next_step]), 2)
            else:
                weight_rate = step.target_conversion or 100.0
            result[step.id] = {
                "measured_conversion": round(line.get("decided_conversion_rate", 0.0), 2),
                "measured_transitions": line.get("decided_count", 0),
                "weight_conversion": weight_rate,
            }
        return result

    def _current_counts(self):
        """{(salesperson id, or False for all, step id): count} now: the
        open opportunities in each step, and for the last (won) step the
        deals won in the plan's period."""
        self.ensure_one()
        counts = {}
        if not self.team_id:
            return counts
        steps = self.env["sales.funnel.step"].search([])
        Lead = self.env["crm.lead"].sudo()
        base = self._scope_domain() & Domain("type", "=", "opportunity")
        open_rows = Lead._read_group(
            base & Domain("won_status", "=", "pending"), ["user_id", "stage_id"], ["__count"]
        )
        rows = [(user, stage.funnel_step_id, count) for user, stage, count in open_rows]
        if self.date_from and self.date_to and steps:
            won_rows = Lead._read_group(
                base
                & Domain("won_status", "=", "won")
                & days_domain("date_closed", self.env, self.date_from, self.date_to),
                ["user_id"],
                ["__count"],
            )
            won_step = self.env["sales.funnel.step"]._won_step()
            rows += [(user, won_step, count) for user, count in won_rows]
        for user, step, count in rows:
            if not step:
                continue
            for key in ((user.id, step.id), (False, step.id)):
                counts[key] = counts.get(key, 0) + count
        return counts

    # ------------------------------------------------------------ checks

    @api.constrains("target_amount", "average_deal_size")
    def _check_amounts(self):
        for plan in self:
            if plan.target_amount < 0:
                raise ValidationError(
                    self.env._(
                        "The revenue target of “%(plan)s” cannot be negative (%(amount)s).",
                        plan=plan.name,
                        amount=plan.target_amount,
                    )
                )
            if plan.average_deal_size < 0:
                raise ValidationError(
                    self.env._("The average deal size of “%(plan)s” cannot be negative.", plan=plan.name)
                )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for plan in self:
            if plan.date_from > plan.date_to:
                raise ValidationError(
                    self.env._("The period of “%(plan)s” must end after it starts.", plan=plan.name)
                )

    # While a plan is written, its lines' shares are checked once, by the
    # plan, when all of them are written; a line written on its own is
    # checked at once (see `_check_plan_shares` of the lines).
    CHECKING_LINES = "funnel_plan_checking_lines"

    @api.constrains("plan_mode", "size_ids", "member_ids")
    def _check_shares(self):
        for plan in self:
            if plan.plan_mode == "mix":
                plan._check_hundred(
                    plan.size_ids,
                    self.env._("The size mix of “%(plan)s” must sum to 100 %%, not %(total)s %%."),
                )
            if plan.member_ids:
                plan._check_hundred(
                    plan.member_ids,
                    self.env._(
                        "The salespeople's shares of “%(plan)s” must sum to 100 %%, not %(total)s %%."
                    ),
                )

    def _check_hundred(self, lines, message):
        """`message` (translated, with %(plan)s and %(total)s) unless the
        `share` of `lines` sums to 100 %."""
        total = sum(lines.mapped("share"))
        if float_compare(total, 100.0, precision_digits=2):
            raise ValidationError(message % {"plan": self.name, "total": round(total, 2)})

    # ------------------------------------------------------------ ORM

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "member_ids" not in vals and not vals.get("user_id") and vals.get("team_id"):
                team = self.env["crm.team"].browse(vals["team_id"])
                vals["member_ids"] = self._even_members(team.member_ids)
        plans = super(SalesFunnelPlan, self.with_context(**{self.CHECKING_LINES: True})).create(vals_list)
        plans._complete_lines()
        return plans.with_env(self.env)

    def write(self, vals):
        return super(SalesFunnelPlan, self.with_context(**{self.CHECKING_LINES: True})).write(vals)

    @api.constrains("team_id")
    def _check_members_of_team(self):
        self.member_ids._check_member_of_team()

    def _complete_lines(self):
        """Plans created with some lines only get the others (every deal
        size, every funnel step)."""
        steps = self.env["sales.funnel.step"].search([])
        for plan in self:
            sizes = [size for size, _label in DEAL_SIZES if size not in plan.size_ids.mapped("deal_size")]
            missing = steps - plan.step_ids.step_id
            if sizes or missing:
                plan.write(
                    {
                        "size_ids": [Command.create({"deal_size": size}) for size in sizes],
                        "step_ids": [Command.create({"step_id": step.id}) for step in missing],
                    }
                )

    @api.model
    def _even_members(self, users):
        """Member lines splitting 100 % evenly among `users` (two decimals,
        the last one taking the rest)."""
        if not users:
            return []
        share = math.floor(10000 / len(users)) / 100
        shares = [share] * (len(users) - 1) + [round(100 - share * (len(users) - 1), 2)]
        return [
            Command.create({"user_id": user.id, "share": share})
            for user, share in zip(users, shares, strict=True)
        ]

    @api.onchange("team_id", "user_id")
    def _onchange_team_members(self):
        """In the form: the team's members, each with an even share (none
        for a salesperson's plan)."""
        members = self.team_id.member_ids if not self.user_id else self.env["res.users"]
        self.member_ids = [Command.clear(), *self._even_members(members)]

    # ------------------------------------------------------------ actions

    def action_split_evenly(self):
        """The team's members, each with an even share of the plan."""
        for plan in self:
            members = plan.team_id.member_ids if not plan.user_id else self.env["res.users"]
            plan.write({"member_ids": [Command.clear(), *self._even_members(members)]})

    def action_reset_conversions(self):
        """Back to the default conversions: measured, else from the weights."""
        self.step_ids._apply_default_conversions()

    @api.readonly
    def action_open_coverage(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Coverage by Salesperson"),
            "res_model": "sales.funnel.plan.coverage",
            "views": [(False, "list")],
            "domain": [("plan_id", "=", self.id)],
            "context": {"create": False, "group_by": ["user_id"]},
        }

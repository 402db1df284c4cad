import io
from collections import defaultdict
from datetime import date
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import date_utils, format_date

from ..periods import days_domain
from .sales_funnel_workbook import XLSX_MIMETYPE, FunnelWorkbook

# Presets: (granularity, how many periods before the current one)
PERIOD_PRESETS = {
    "this_week": ("week", 0),
    "last_week": ("week", 1),
    "this_month": ("month", 0),
    "last_month": ("month", 1),
    "this_quarter": ("quarter", 0),
    "last_quarter": ("quarter", 1),
    "this_year": ("year", 0),
    "last_year": ("year", 1),
}
PERIOD_STEPS = {
    "week": relativedelta(weeks=1),
    "month": relativedelta(months=1),
    "quarter": relativedelta(months=3),
    "year": relativedelta(years=1),
}
# Breakdown sheets: wizard option -> field of `sales.funnel.report`
BREAKDOWNS = {
    "breakdown_user": "user_id",
    "breakdown_team": "team_id",
    "breakdown_tier": "priority_tier",
    "breakdown_man_class": "man_class",
    "breakdown_source": "source_id",
    "breakdown_deal_size": "deal_size",
}
# Dates a period may use: enough for any sales history, and far enough from
# the ends of Python's calendar that a comparison period or a time zone
# shift stays in it.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


class SalesFunnelExport(models.TransientModel):
    """Funnel workbook for "All Documents" users, on demand (this wizard),
    and weekly by email (`sales.funnel.weekly.report`).

    Everything is read in the reader's language and time zone, within the
    chosen companies and under the reader's record rules (`_reading`); the
    reader is whoever made the wizard: the user exporting, or the
    recipient of a weekly mail. Amounts are in the currency of the current
    company (or the first one chosen).
    """

    _name = "sales.funnel.export"
    _description = "Export the Sales Funnel Report"

    period = fields.Selection(
        [
            ("this_week", "This week"),
            ("last_week", "Last week"),
            ("this_month", "This month"),
            ("last_month", "Last month"),
            ("this_quarter", "This quarter"),
            ("last_quarter", "Last quarter"),
            ("this_year", "This year"),
            ("last_year", "Last year"),
            ("custom", "Custom"),
        ],
        required=True,
        default="last_week",
    )
    date_from = fields.Date(
        string="From", compute="_compute_dates", store=True, readonly=False, precompute=True, required=True
    )
    date_to = fields.Date(
        string="To", compute="_compute_dates", store=True, readonly=False, precompute=True, required=True
    )
    comparison = fields.Selection(
        [
            ("none", "No comparison"),
            ("previous_period", "Previous period"),
            ("previous_year", "Same period last year"),
            ("custom", "Custom"),
        ],
        string="Compare With",
        required=True,
        default="none",
    )
    compare_date_from = fields.Date(
        string="Comparison From",
        compute="_compute_compare_dates",
        store=True,
        readonly=False,
        precompute=True,
    )
    compare_date_to = fields.Date(
        string="Comparison To", compute="_compute_compare_dates", store=True, readonly=False, precompute=True
    )
    company_ids = fields.Many2many("res.company", string="Companies", default=lambda self: self.env.companies)
    # the company open in the web client when the export was made: its
    # currency is the workbook's, though the download carries no company
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, readonly=True)
    team_ids = fields.Many2many("crm.team", string="Sales Teams", help="All sales teams when empty.")
    user_ids = fields.Many2many(
        "res.users",
        string="Salespersons",
        domain=[("share", "=", False)],
        help="All salespersons when empty.",
    )
    breakdown_user = fields.Boolean(string="By Salesperson", default=True)
    breakdown_team = fields.Boolean(string="By Sales Team", default=True)
    breakdown_tier = fields.Boolean(string="By Tier", default=True)
    breakdown_man_class = fields.Boolean(string="By MAN Class", default=True)
    breakdown_source = fields.Boolean(string="By Source", default=True)
    breakdown_deal_size = fields.Boolean(string="By Deal Size", default=True)

    # ------------------------------------------------------------ periods

    @api.depends("period")
    def _compute_dates(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.period in PERIOD_PRESETS:
                wizard.date_from, wizard.date_to = self._preset_dates(wizard.period, today)
            else:
                wizard.date_from = wizard.date_from or today
                wizard.date_to = wizard.date_to or today

    @api.depends("comparison", "period", "date_from", "date_to")
    def _compute_compare_dates(self):
        for wizard in self:
            if wizard.comparison == "none" or not wizard._in_calendar(wizard.date_from, wizard.date_to):
                # out of the calendar: left for _check_dates to explain
                wizard.compare_date_from = wizard.compare_date_to = False
            elif wizard.comparison == "previous_year":
                wizard.compare_date_from = wizard.date_from - relativedelta(years=1)
                wizard.compare_date_to = wizard.date_to - relativedelta(years=1)
            elif wizard.comparison == "previous_period":
                wizard.compare_date_from, wizard.compare_date_to = wizard._previous_period()
            else:
                wizard.compare_date_from = wizard.compare_date_from or wizard.date_from
                wizard.compare_date_to = wizard.compare_date_to or wizard.date_to

    @api.model
    def _preset_dates(self, period, today, back=0):
        granularity, periods_back = PERIOD_PRESETS[period]
        anchor = today - PERIOD_STEPS[granularity] * (periods_back + back)
        return date_utils.start_of(anchor, granularity), date_utils.end_of(anchor, granularity)

    def _previous_period(self):
        """The calendar period before a preset (last month for this month,
        not its number of days); the same number of days just before a
        custom period."""
        self.ensure_one()
        if self.period in PERIOD_PRESETS:
            return self._preset_dates(self.period, fields.Date.context_today(self), back=1)
        end = self.date_from - relativedelta(days=1)
        return end - (self.date_to - self.date_from), end

    @staticmethod
    def _in_calendar(*days):
        return all(days) and all(FIRST_DAY <= day <= LAST_DAY for day in days)

    @api.constrains("date_from", "date_to", "comparison", "compare_date_from", "compare_date_to")
    def _check_dates(self):
        for wizard in self:
            days = [wizard.date_from, wizard.date_to]
            if wizard.comparison == "custom":
                days += [wizard.compare_date_from, wizard.compare_date_to]
            if not wizard._in_calendar(*filter(None, days)):
                raise ValidationError(
                    self.env._(
                        "Choose dates between %(first)s and %(last)s.",
                        first=format_date(self.env, FIRST_DAY),
                        last=format_date(self.env, LAST_DAY),
                    )
                )
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._(
                        "The period ends (%(end)s) before it starts (%(start)s).",
                        start=format_date(self.env, wizard.date_from),
                        end=format_date(self.env, wizard.date_to),
                    )
                )
            if wizard.comparison == "none":
                continue
            if not (wizard.compare_date_from and wizard.compare_date_to):
                raise ValidationError(self.env._("Set both dates of the comparison period."))
            if wizard.compare_date_from > wizard.compare_date_to:
                raise ValidationError(
                    self.env._(
                        "The comparison period ends (%(end)s) before it starts (%(start)s).",
                        start=format_date(self.env, wizard.compare_date_from),
                        end=format_date(self.env, wizard.compare_date_to),
                    )
                )

    def _compared_dates(self):
        """(from, to) of the comparison period, or None."""
        self.ensure_one()
        return None if self.comparison == "none" else (self.compare_date_from, self.compare_date_to)

    # ------------------------------------------------------------ scope

    def _check_scope(self):
        self.ensure_one()
        if not self.company_ids:
            raise UserError(self.env._("Select at least one company."))
        if not self._breakdowns():
            raise UserError(self.env._("Select at least one breakdown sheet."))

    def _in_export_companies(self):
        """This wizard in an environment restricted to the chosen companies,
        the company of the export first (its currency is the report's). Odoo
        refuses companies the user does not work in."""
        main = self.company_id if self.company_id in self.company_ids else self.company_ids[:1]
        return self.with_context(allowed_company_ids=(main | self.company_ids).ids)

    def _scope_domain(self):
        """Companies, teams and salespersons, on any model that has the three
        fields (funnel report, stage history, leads)."""
        domain = Domain("company_id", "in", self.company_ids.ids) | Domain("company_id", "=", False)
        if self.team_ids:
            domain &= Domain("team_id", "in", self.team_ids.ids)
        if self.user_ids:
            domain &= Domain("user_id", "in", self.user_ids.ids)
        return domain

    def _period_domain(self, date_from, date_to):
        """Records dated within the two days, those included, in the
        reader's time zone."""
        return days_domain("date", self.env, date_from, date_to) & self._scope_domain()

    def _breakdowns(self):
        """[(report field, its label)] of the breakdown sheets asked for."""
        report_fields = self.env["sales.funnel.report"]._fields
        return [
            (field_name, report_fields[field_name]._description_string(self.env))
            for option, field_name in BREAKDOWNS.items()
            if self[option]
        ]

    # ------------------------------------------------------------ figures

    def _reading(self, model_name):
        """`model_name` with the rights of this wizard's maker, whatever runs
        it: the weekly mail is built by the superuser, yet shows each
        recipient no more than they may read on screen."""
        return self.env[model_name].with_user(self.create_uid)

    def _currency_factors(self):
        """Per company (id), what converts its amounts into the report's
        currency (the reader's company's), at today's rates as the funnel's
        totals; amounts without a company stay as they are."""
        currency = self.env.company.currency_id
        today = fields.Date.context_today(self)
        rates = (self.company_ids.currency_id | currency)._get_rates(self.env.company, today)
        factors = defaultdict(lambda: 1.0)
        factors.update(
            (company.id, rates[currency.id] / rates[company.currency_id.id]) for company in self.company_ids
        )
        return factors

    def _forecast(self):
        """The coming months' forecast of the scope (see `sales.funnel.forecast.get_forecast`)."""
        return self._reading("sales.funnel.forecast").get_forecast(
            self._scope_domain(), factors=self._currency_factors()
        )

    def _funnel(self, date_from, date_to, groupby=None):
        return self._reading("sales.funnel.report").get_funnel(
            self._period_domain(date_from, date_to), groupby=groupby
        )

    def _kpis(self, date_from, date_to):
        return self._reading("sales.funnel.report").get_funnel_kpis(self._period_domain(date_from, date_to))

    # ------------------------------------------------------------ export

    def action_export(self):
        """Download the workbook: its route builds it, reading the funnel as
        the request that asks for it (on a read replica, where there is one)."""
        self.ensure_one()
        self._check_scope()
        return {
            "type": "ir.actions.act_url",
            "url": self._download_url(),
            "target": "download",
        }

    def _workbook(self):
        """The workbook as bytes."""
        output = io.BytesIO()
        FunnelWorkbook(self, output).build()
        return output.getvalue()

    def _workbook_attachment(self):
        """The workbook as the values of an attachment (of a mail)."""
        return {"name": self._file_name(), "raw": self._workbook(), "mimetype": XLSX_MIMETYPE}

    def _download_url(self):
        """The workbook's route, with the time of the export's last change:
        a read replica serves it once it holds that change."""
        return f"/sales_funnel/workbook/{self.id}?{urlencode({'version': fields.Datetime.to_string(self.write_date)})}"

    def _ascii_file_name(self):
        """The file name for programs that read ASCII names only."""
        return f"sales_funnel_{self.date_from.isoformat()}_{self.date_to.isoformat()}.xlsx"

    def _file_name(self):
        name = self.env._(
            "Sales funnel %(start)s to %(end)s",
            start=self.date_from.isoformat(),
            end=self.date_to.isoformat(),
        )
        return f"{name}.xlsx"

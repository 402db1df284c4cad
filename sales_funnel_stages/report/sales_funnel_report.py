"""The funnel report: the SQL view over the per-lead summary in named parts, and the API
that every screen, the workbook, the planner and the mail read (`get_funnel`...), so
that each measure has one definition, next to its SQL."""

from datetime import datetime

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, format_date

from ..definitions import DEAL_SIZES, WON_STEP


class SalesFunnelReport(models.Model):
    """Funnel analysis: one row per lead and funnel step it reached.

    Counts are sums of 0/1 columns and rates are averages of 0/100 columns,
    so that pivot, graph and `_read_group` compute them per group in SQL;
    `days_in_step` also aggregates as a median. Rows come from the per-lead
    funnel summary, kept up to date on every stage change: nothing here
    aggregates the raw history at query time.
    """

    _name = "sales.funnel.report"
    _inherit = ["sales.funnel.sql.view"]
    _description = "Sales Funnel Analysis"
    _auto = False
    _order = "date desc, step_sequence"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    step_id = fields.Many2one("sales.funnel.step", string="Funnel Step", readonly=True)
    step_sequence = fields.Integer(readonly=True)
    date = fields.Datetime(string="Entered On", readonly=True, help="First time the lead entered the step.")
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    # read from the lead only when grouped or filtered by
    partner_id = fields.Many2one(related="lead_id.partner_id", string="Customer")
    source_id = fields.Many2one(related="lead_id.source_id")
    medium_id = fields.Many2one(related="lead_id.medium_id")
    campaign_id = fields.Many2one(related="lead_id.campaign_id")
    country_id = fields.Many2one(related="lead_id.country_id")
    state_id = fields.Many2one(related="lead_id.state_id")
    priority_tier = fields.Selection(related="lead_id.priority_tier")
    man_class = fields.Selection(related="lead_id.man_class")
    customer_type = fields.Selection(
        [("new", "New customer"), ("existing", "Existing customer")],
        readonly=True,
        help="Existing: the customer had won a deal before the opportunity was created.",
    )
    deal_size = fields.Selection(
        DEAL_SIZES, readonly=True, help="By expected revenue, between the company's deal-size edges."
    )
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")], string="Type", readonly=True
    )

    is_first = fields.Boolean(string="First Step", readonly=True, help="The lead's first step in the funnel.")
    date_won = fields.Datetime(readonly=True)
    cycle_days = fields.Float(
        string="Days to Win",
        readonly=True,
        aggregator="avg",
        help="From first funnel entry to won, for won leads.",
    )

    entered_count = fields.Integer(
        string="Entered",
        readonly=True,
        aggregator="sum",
        help="Leads that entered the step; in a total over several steps, leads that entered the funnel "
        "(each once).",
    )
    open_count = fields.Integer(
        string="Open", readonly=True, aggregator="sum", help="The lead is neither won nor lost."
    )
    current_count = fields.Integer(string="Still in Step", readonly=True, aggregator="sum")
    advanced_count = fields.Integer(string="Advanced", readonly=True, aggregator="sum")
    lost_count = fields.Integer(string="Lost in Step", readonly=True, aggregator="sum")
    regressed_count = fields.Integer(string="Regressed", readonly=True, aggregator="sum")
    outcome = fields.Selection(
        [
            ("in_step", "Still in step"),
            ("advanced", "Advanced"),
            ("went_back", "Went back"),
            ("lost", "Lost in step"),
            ("won", "Won"),
        ],
        string="Outcome in Step",
        readonly=True,
        help="What became of the lead once in the step: won in the end, lost there, advanced to a later "
        "step, went back to an earlier one, or still there.",
    )
    won_count = fields.Integer(
        string="Won",
        readonly=True,
        aggregator="sum",
        help="Leads of the step that are won; in a total over several steps, each won lead once.",
    )
    conversion_rate = fields.Float(
        string="Conversion to Next (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads that entered the step and later reached a later step; in a total over "
        "several steps, the share of all the steps' entries.",
    )
    won_rate = fields.Float(
        string="Conversion to Won (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads that entered the step and are won; in a total over several steps, the "
        "leads won over the leads that entered the funnel.",
    )
    target_conversion = fields.Float(
        string="Target Conversion (%)",
        readonly=True,
        aggregator="avg",
        help="The step's ideal conversion to next.",
    )
    days_in_step = fields.Float(
        string="Days in Step",
        readonly=True,
        aggregator="avg",
        help="Days spent in the step, the current stay counted up to now.",
    )
    days_in_step_whole = fields.Integer(string="Whole Days in Step", readonly=True, aggregator=False)
    days_in_step_median = fields.Float(
        string="Median Days in Step",
        readonly=True,
        aggregator="median",
        help="Median of the whole days spent in the step.",
    )
    expected_revenue = fields.Monetary(string="Amount", readonly=True, aggregator="sum_currency")
    weighted_revenue = fields.Monetary(readonly=True, aggregator="sum_currency")

    @property
    def _table_query(self):
        return SQL("%s %s %s", self._select(), self._from(), self._where())

    def _select(self):
        days = SQL(
            """summary.days_closed + CASE WHEN summary.is_current
                   THEN date_part('epoch', %(now)s - summary.date_last_entered) / 86400.0 ELSE 0 END""",
            # to the microsecond, as history dates are: a stay that began in
            # this very transaction lasts a fraction of a second, not less
            now=datetime.now(),
        )
        return SQL(
            """
            SELECT summary.id, summary.lead_id, summary.step_id, summary.step_sequence,
                   summary.date_entered AS date, summary.company_id, summary.currency_id, summary.team_id,
                   summary.user_id, summary.customer_type, summary.lead_type, summary.is_first,
                   summary.date_won,
                   date_part('epoch', summary.date_won - summary.date_entered) / 86400.0 AS cycle_days,
                   summary.lead_open::int AS open_count,
                   CASE WHEN summary.expected_revenue < COALESCE(company.funnel_size_edge_1, 10000) THEN 'small'
                        WHEN summary.expected_revenue < COALESCE(company.funnel_size_edge_2, 30000) THEN 'medium'
                        WHEN summary.expected_revenue < COALESCE(company.funnel_size_edge_3, 50000) THEN 'large'
                        ELSE 'very_large' END AS deal_size,
                   1 AS entered_count,
                   summary.is_current::int AS current_count,
                   summary.advanced::int AS advanced_count,
                   summary.lost::int AS lost_count,
                   summary.regressed::int AS regressed_count,
                   summary.won::int AS won_count,
                   CASE WHEN summary.won THEN 'won' WHEN summary.lost THEN 'lost'
                        WHEN summary.advanced THEN 'advanced' WHEN summary.is_current THEN 'in_step'
                        ELSE 'went_back' END AS outcome,
                   CASE WHEN summary.advanced THEN 100.0 ELSE 0.0 END AS conversion_rate,
                   CASE WHEN summary.won THEN 100.0 ELSE 0.0 END AS won_rate,
                   step.target_conversion,
                   %(days)s AS days_in_step,
                   FLOOR(%(days)s)::int AS days_in_step_whole,
                   FLOOR(%(days)s) AS days_in_step_median,
                   summary.expected_revenue, summary.weighted_revenue
            """,
            days=days,
        )

    def _from(self):
        return SQL(
            """
            FROM sales_funnel_lead_step AS summary
            -- LEFT JOINs on unique keys: PostgreSQL drops them when no column is used
            LEFT JOIN sales_funnel_step AS step ON step.id = summary.step_id
            LEFT JOIN res_company AS company ON company.id = summary.company_id
            """
        )

    def _where(self):
        return SQL()

    # Measures of leads, not of (lead, step) rows: in a group that holds
    # the rows of several steps (a total, a salesperson's line without the
    # steps), a lead counts once; within one step the two are the same.
    # Every grouping a view asks for (pivot and graph read several grouping
    # sets in one query) aggregates them so. `get_funnel`, always by step,
    # sums the rows instead (`field:rows`), which costs no sort.
    PER_LEAD_MEASURES = ("entered_count:sum", "won_count:sum", "won_rate:avg")

    def _read_group_select(self, aggregate_spec, query):
        """`field:median` aggregates as PostgreSQL's percentile_cont(0.5);
        `field:rows` is a plain sum; entered and won count leads, and the
        conversion to won is the leads won over the leads that entered."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func == "median":
            return SQL(
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)",
                self._field_to_sql(self._table, fname, query),
            )
        if func == "rows":
            return SQL("SUM(%s)", self._field_to_sql(self._table, fname, query))
        if aggregate_spec in self.PER_LEAD_MEASURES:
            lead = self._field_to_sql(self._table, "lead_id", query)
            won = SQL("%s = 1", self._field_to_sql(self._table, "won_count", query))
            if fname == "entered_count":
                return SQL("COUNT(DISTINCT %s)", lead)
            if fname == "won_count":
                return SQL("COUNT(DISTINCT %s) FILTER (WHERE %s)", lead, won)
            return SQL(
                "100.0 * COUNT(DISTINCT %s) FILTER (WHERE %s) / NULLIF(COUNT(DISTINCT %s), 0)",
                lead,
                won,
                lead,
            )
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------ API

    # Sums per (step, currency, whole days in step): one scan that a hash
    # aggregate (and parallel workers) can serve. `get_funnel` folds the
    # days away, takes the median from that histogram (an ordered-set
    # aggregate would sort every row of the period) and converts the amounts
    # per currency (instead of joining rates on every row).
    FUNNEL_SUMS = [
        "entered_count:rows",
        "current_count:sum",
        "advanced_count:sum",
        "lost_count:sum",
        "regressed_count:sum",
        "won_count:rows",
        "days_in_step:sum",
        "expected_revenue:sum",
        "weighted_revenue:sum",
    ]

    @api.model
    @api.readonly
    def get_funnel(self, domain=None, groupby=None):
        """The funnel of `domain`, one dict per funnel step (per `groupby`
        value and step, with a breakdown): entered, still in step, advanced,
        lost, regressed, won, conversions to next and to won (%), average
        days and median whole days in step, amount and weighted amount
        (converted to the company's currency), the step's target conversion.
        Without a breakdown every step is listed, reached or not."""
        groupby = list(groupby or [])
        sums = [spec.split(":")[0] for spec in self.FUNNEL_SUMS]
        rows = self._read_group(
            domain or [],
            [*groupby, "step_id", "currency_id", "days_in_step_whole"],
            self.FUNNEL_SUMS,
            # ordering on an aggregate leaves PostgreSQL free to hash the groups
            order="entered_count:rows",
        )
        rates = self._funnel_rates({row[len(groupby) + 1] for row in rows})
        folded = {}
        for row in rows:
            key = row[: len(groupby) + 1]
            currency, days, values = row[len(groupby) + 1], row[len(groupby) + 2], row[len(groupby) + 3 :]
            line = folded.setdefault(key, {"sums": dict.fromkeys(sums, 0.0), "histogram": {}})
            for name, value in zip(sums, values, strict=True):
                rate = (
                    rates.get(currency.id, 1.0) if name in ("expected_revenue", "weighted_revenue") else 1.0
                )
                line["sums"][name] += (value or 0.0) / rate
            line["histogram"][days] = line["histogram"].get(days, 0) + values[0]
        result = []
        for key, line in folded.items():
            values = self._funnel_step_values(key[-1])
            values.update({name: self._funnel_json(value) for name, value in zip(groupby, key, strict=False)})
            values.update(self._funnel_measures(line["sums"], line["histogram"]))
            result.append(values)
        if not groupby:
            reached = {values["step_id"] for values in result}
            for step in self.env["sales.funnel.step"].search([]):
                if step.id not in reached:
                    result.append(self._funnel_unreached(step))
        result.sort(
            key=lambda values: (
                [self._funnel_sort_key(values[name]) for name in groupby],
                values["step_sequence"],
            )
        )
        return result

    @api.model
    @api.readonly
    def get_funnel_comparison(self, domain=None, groupby=None):
        """The funnels of the values of `groupby` (a field of the report; a
        date with its granularity, as "date:year") side by side on the same
        steps: [{"key", "label", "steps": [get_funnel's line of each step,
        reached or not]}], in the order of the values. Two periods, two
        teams, two salespeople, new against existing customers..."""
        lines = self.get_funnel(domain, [groupby])
        steps = self.env["sales.funnel.step"].search([])
        groups = {}
        for line in lines:
            value = line[groupby]
            key = tuple(value) if isinstance(value, (list, tuple)) else value  # a record: (id, name)
            groups.setdefault(key, {})[line["step_id"]] = line
        field = self._fields[groupby.partition(":")[0]]
        if field.type == "selection":  # in the selection's order (small to very large deals)
            order = [value for value, _label in field._description_selection(self.env)]
            groups = dict(
                sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else -1)
            )
        return [
            {
                "key": key,
                "label": self._funnel_group_label(groupby, key),
                "steps": [by_step.get(step.id) or self._funnel_unreached(step) for step in steps],
            }
            for key, by_step in groups.items()
        ]

    @api.model
    def _funnel_unreached(self, step):
        """The funnel line of a step that nothing entered."""
        sums = dict.fromkeys((spec.split(":")[0] for spec in self.FUNNEL_SUMS), 0)
        return dict(self._funnel_step_values(step), **self._funnel_measures(sums, {}))

    @api.model
    def _funnel_group_label(self, groupby, value):
        """A group value as the reader reads it."""
        field_name, _sep, granularity = groupby.partition(":")
        if value is False or value is None:
            return self.env._("None")
        if isinstance(value, tuple):
            return value[1]
        field = self._fields[field_name]
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        if field.type in ("date", "datetime"):
            day = fields.Date.to_date(value)
            formats = {"year": "y", "quarter": "QQQ y", "month": "MMMM y", "week": "'W'w y"}
            return format_date(self.env, day, date_format=formats.get(granularity or "month", "medium"))
        return str(value)

    @api.model
    def _funnel_rates(self, currencies):
        """Rates of `currencies` against the company's, as Odoo's
        currency-aware sums (`sum_currency`) apply them."""
        currencies = self.env["res.currency"].union(*currencies)
        return currencies._get_rates(self.env.company, fields.Date.context_today(self)) if currencies else {}

    @staticmethod
    def _funnel_sort_key(value):
        """Group values sort by name: records come as (id, name)."""
        return str(value[1] if isinstance(value, tuple) else value)

    @api.model
    def _funnel_measures(self, sums, histogram):
        entered = int(sums["entered_count"])
        return {
            "entered_count": entered,
            "current_count": int(sums["current_count"]),
            "advanced_count": int(sums["advanced_count"]),
            "lost_count": int(sums["lost_count"]),
            "regressed_count": int(sums["regressed_count"]),
            "won_count": int(sums["won_count"]),
            "conversion_rate": 100.0 * sums["advanced_count"] / entered if entered else 0.0,
            # of the leads that left the step (advanced or lost), still open ones left out
            "decided_count": int(sums["advanced_count"] + sums["lost_count"]),
            "decided_conversion_rate": (
                100.0 * sums["advanced_count"] / (sums["advanced_count"] + sums["lost_count"])
                if sums["advanced_count"] + sums["lost_count"]
                else 0.0
            ),
            "won_rate": 100.0 * sums["won_count"] / entered if entered else 0.0,
            "days_in_step": sums["days_in_step"] / entered if entered else 0.0,
            "days_in_step_median": self._funnel_median(histogram),
            "expected_revenue": sums["expected_revenue"],
            "weighted_revenue": sums["weighted_revenue"],
        }

    @staticmethod
    def _funnel_median(histogram):
        """Median of the values counted in `histogram` {value: count}, the
        mean of the two middle values for an even count (as percentile_cont)."""
        total = sum(histogram.values())
        if not total:
            return 0.0
        middle, seen, below = [(total - 1) // 2, total // 2], 0, []
        for value in sorted(histogram):
            seen += histogram[value]
            while middle and middle[0] < seen:
                below.append(value)
                middle.pop(0)
        return sum(below) / 2.0

    @api.model
    @api.readonly
    def get_funnel_kpis(self, domain=None):
        """Whole-funnel figures of the leads whose first funnel entry
        matches `domain` (funnel method, section 7): win rate, average deal
        size (won leads), average cycle (first entry to won, in days),
        open deals and their weighted amount, sales velocity (open deals x
        win rate x average deal size / average cycle, per day), and the
        step converting worst to the next."""
        first = Domain(domain or []) & Domain("is_first", "=", True)
        [(entered, won)] = self._read_group(first, [], ["entered_count:rows", "won_count:rows"])
        [(won_amount, cycle)] = self._read_group(
            first & Domain("won_count", "=", 1), [], ["expected_revenue:sum_currency", "cycle_days:avg"]
        )
        [(open_count, open_weighted)] = self._read_group(
            first & Domain("open_count", "=", 1), [], ["open_count:sum", "weighted_revenue:sum_currency"]
        )
        entered, won, open_count = entered or 0, won or 0, open_count or 0
        win_rate = 100.0 * won / entered if entered else 0.0
        deal_size = (won_amount or 0.0) / won if won else 0.0
        velocity = open_count * win_rate / 100.0 * deal_size / cycle if cycle else 0.0
        weakest = self._funnel_weakest_step(self.get_funnel(domain))
        return {
            "entered": entered,
            "won": won,
            "win_rate": win_rate,
            "average_deal_size": deal_size,
            "average_cycle_days": cycle or 0.0,
            "open": open_count,
            "open_weighted_revenue": open_weighted or 0.0,
            "sales_velocity": velocity,
            "weakest_step_id": weakest and weakest["step_id"],
            "weakest_step_code": weakest and weakest["step_code"],
            "weakest_step": weakest and weakest["step"],
            "weakest_conversion": weakest and weakest["conversion_rate"],
        }

    @api.model
    @api.readonly
    def action_open_step_leads(self, domain, step_id):
        """The opportunities behind a band of the funnel chart: the rows of
        `domain` (the chart's search), the step as a facet of the search,
        grouped by what became of them in the step. Lost leads are archived
        yet counted by the band, hence listed too; a row opens its lead."""
        step = self.env["sales.funnel.step"].browse(step_id)
        return {
            "type": "ir.actions.act_window",
            "name": step.name,
            "res_model": self._name,
            "views": [
                (self.env.ref("sales_funnel_stages.sales_funnel_report_view_list_step_leads").id, "list")
            ],
            "search_view_id": [self.env.ref("sales_funnel_stages.sales_funnel_report_view_search").id, False],
            "domain": domain or [],
            "context": {"search_default_step_id": step.id, "search_default_groupby_outcome": 1},
        }

    @api.readonly
    def action_open_lead(self):
        """A row of the list: its opportunity."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }

    @api.model
    def _funnel_weakest_step(self, lines):
        """The step with the lowest conversion to the next (the first on a
        tie), among the steps that have a next one and were entered."""
        candidates = [line for line in lines if line["entered_count"] and line["step_code"] != WON_STEP]
        return min(candidates, key=lambda line: line["conversion_rate"], default=None)

    @api.model
    def _funnel_step_values(self, step):
        return {
            "step_id": step.id,
            "step": step.name,
            "step_code": step.code,
            "step_sequence": step.sequence,
            "target_conversion": step.target_conversion,
            "is_won": step.code == WON_STEP,
            # amounts are converted to the company's currency
            "currency_id": self.env.company.currency_id.id,
        }

    @api.model
    def _funnel_json(self, value):
        """A group value as the web client reads it: records as (id, name)."""
        if isinstance(value, models.BaseModel):
            return (value.id, value.display_name) if value else False
        return value

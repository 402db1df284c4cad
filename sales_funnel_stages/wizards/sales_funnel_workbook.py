"""The XLSX workbook, sheet by sheet: layout, measures (read from the funnel report),
one method per sheet. A writer's sheets share formats and columns; split per sheet,
they would share them through another module for no gain."""

import re
from collections import defaultdict
from itertools import islice
from typing import NamedTuple

import xlsxwriter

from odoo import fields
from odoo.fields import Domain
from odoo.tools import SQL, formatLang

from ..periods import local_sql

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows fetched at a time for the long sheets (open pipeline, transitions)
BATCH_SIZE = 5000
# Open opportunities the pipeline sheet lists, the largest first: a large
# database has hundreds of thousands, which no one reads in a workbook (and
# which would take minutes to write); CRM's pipeline lists them all.
PIPELINE_ROWS = 5000


class Column(NamedTuple):
    label: str
    kind: str  # text, int, days, percent (values 0-100), points (a change of percent), money, date, datetime
    width: int = 14


class FunnelWorkbook:
    """The funnel workbook of a `sales.funnel.export` wizard, whose
    environment already holds the reader's language, time zone and
    companies.

    xlsxwriter runs in constant-memory mode: a row goes to disk as soon as
    the next one starts, so every sheet is written top to bottom, once, and
    the long sheets stream their rows from SQL in batches. Text that comes
    from users is always written with `write_string`: a name such as
    `=HYPERLINK(...)` stays text.
    """

    def __init__(self, export, output):
        self.export = export
        self.env = export.env
        self.currency = self.env.company.currency_id
        self.book = xlsxwriter.Workbook(
            output,
            {
                "constant_memory": True,
                # cells are written with typed calls; should `write()` ever be, no guessing
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.formats = self._formats()

    def build(self):
        self.env.flush_all()
        self._properties()
        self._summary_sheet()
        for field_name, label in self.export._breakdowns():
            self._breakdown_sheet(field_name, label)
        self._durations_sheet()
        self._forecast_sheet()
        self._pipeline_sheet()
        self._transitions_sheet()
        self.book.close()

    # ------------------------------------------------------------ layout

    def _formats(self):
        add = self.book.add_format
        decimals = "0" * self.currency.decimal_places
        amount = f"#,##0.{decimals}" if decimals else "#,##0"
        symbol = self.currency.symbol.replace('"', "")
        money = f'"{symbol}" {amount}' if self.currency.position == "before" else f'{amount} "{symbol}"'
        return {
            "title": add({"bold": True, "font_size": 14}),
            "label": add({"bold": True}),
            "header": add({"bold": True, "bg_color": "#e9ecef", "text_wrap": True, "valign": "top"}),
            "note": add({"italic": True, "font_color": "#6c757d"}),
            "text": None,
            "int": add({"num_format": "#,##0"}),
            "days": add({"num_format": "#,##0.0"}),
            "percent": add({"num_format": "0.0%"}),
            # a change of a rate: percentage points, not percent
            "points": add({"num_format": self._points_format()}),
            "money": add({"num_format": money}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "datetime": add({"num_format": "yyyy-mm-dd hh:mm"}),
        }

    def _points_format(self):
        unit = self.env._("pts").replace('"', "")
        return f'+0.0 "{unit}";-0.0 "{unit}";0.0 "{unit}"'

    def _writer(self, sheet, kind):
        """A function (row, col, value) writing a cell of `kind`."""
        cell_format = self.formats[kind]
        if kind == "text":
            return lambda row, col, value: sheet.write_string(row, col, value or "", cell_format)
        if kind == "percent":
            return lambda row, col, value: sheet.write_number(row, col, (value or 0.0) / 100.0, cell_format)
        if kind in ("date", "datetime"):
            return lambda row, col, value: (
                sheet.write_datetime(row, col, value, cell_format)
                if value
                else sheet.write_blank(row, col, None, cell_format)
            )
        return lambda row, col, value: sheet.write_number(row, col, value or 0, cell_format)

    def _add_sheet(self, name):
        # Excel: at most 31 characters, none of []:*?/\
        sheet = self.book.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", name)[:31])
        # printed: landscape A4, one page wide, the sheet's name and page in the footer
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        sheet.set_footer("&L&A&R&P / &N")
        return sheet

    def _table(self, sheet, row, columns, rows, empty_note=None):
        """Write a header at `row` and the `rows` (tuples of values in the
        order of `columns`) under it; return the first row after the table.
        The header is frozen and filters the table; without rows, a note
        says there is no data."""
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column.width)
            sheet.write_string(row, col, column.label, self.formats["header"])
        # tall enough for a wrapped header of three lines, repeated on every printed page
        sheet.set_row(row, 45)
        sheet.repeat_rows(row)
        sheet.freeze_panes(row + 1, 1)
        writers = [self._writer(sheet, column.kind) for column in columns]
        last = row
        for last, values in enumerate(rows, start=row + 1):
            for col, (write, value) in enumerate(zip(writers, values, strict=True)):
                write(last, col, value)
        if last == row:
            self._note(sheet, row + 1, empty_note)
            return row + 2
        sheet.autofilter(row, 0, last, len(columns) - 1)
        return last + 1

    def _note(self, sheet, row, text=None):
        """A line in grey, by default: there is no data."""
        text = text or self.env._("There is no funnel data for this period.")
        sheet.write_string(row, 0, text, self.formats["note"])

    def _properties(self):
        export = self.export
        self.book.set_properties(
            {
                "title": self.env._("Sales Funnel Report"),
                "subject": self._period_text(export.date_from, export.date_to),
                "company": ", ".join(export.company_ids.mapped("name")),
                "author": self.env.user.name,
                "comments": self.env._(
                    "Funnel of the opportunities that entered each step in the period; "
                    "amounts in %(currency)s.",
                    currency=self.currency.name,
                ),
            }
        )

    def _period_text(self, date_from, date_to):
        return self.env._(
            "%(start)s to %(end)s",
            start=fields.Date.to_string(date_from),
            end=fields.Date.to_string(date_to),
        )

    # ------------------------------------------------------------ measures

    def _measure_columns(self):
        """{funnel measure: its column}"""
        return {
            "entered_count": Column(self.env._("Entered"), "int", 10),
            "advanced_count": Column(self.env._("Advanced"), "int", 10),
            "lost_count": Column(self.env._("Lost"), "int", 10),
            "conversion_rate": Column(self.env._("Conversion to Next"), "percent", 12),
            "won_rate": Column(self.env._("Conversion to Won"), "percent", 12),
            "days_in_step": Column(self.env._("Days in Step"), "days", 10),
            "expected_revenue": Column(self.env._("Amount"), "money", 16),
            "weighted_revenue": Column(self.env._("Weighted Amount"), "money", 16),
        }

    def _kpi_columns(self):
        """{key figure of `get_funnel_kpis`: its label and kind}"""
        return {
            "entered": Column(self.env._("Entered the Funnel"), "int"),
            "won": Column(self.env._("Won"), "int"),
            "win_rate": Column(self.env._("Win Rate"), "percent"),
            "average_deal_size": Column(self.env._("Average Deal Size"), "money"),
            "average_cycle_days": Column(self.env._("Average Cycle (Days)"), "days"),
            "open": Column(self.env._("Open Opportunities"), "int"),
            "open_weighted_revenue": Column(self.env._("Weighted Pipeline"), "money"),
            "sales_velocity": Column(self.env._("Sales Velocity (per Day)"), "money"),
            "weakest_step": Column(self.env._("Weakest Conversion Step"), "text"),
            "weakest_conversion": Column(self.env._("Weakest Step: Conversion to Next"), "percent"),
        }

    @staticmethod
    def _change_kind(kind):
        return "points" if kind == "percent" else kind

    def _label(self, field_name, value):
        """A breakdown value as text: a record's name, a selection's label;
        a deal size with its range."""
        label = self.env["sales.funnel.report"]._funnel_group_label(field_name, value)
        size_range = field_name == "deal_size" and value and self._size_range(value)
        if size_range:
            return self.env._("%(size)s (%(range)s)", size=label, range=size_range)
        return label

    def _size_range(self, size):
        """The expected revenues of a deal size, between the edges of the
        workbook's companies; none when they have edges or currencies of
        their own (each lead is sized by its own company's edges)."""
        edges = {
            (
                company.funnel_size_edge_1,
                company.funnel_size_edge_2,
                company.funnel_size_edge_3,
                company.currency_id,
            )
            for company in self.env.companies
        }
        if len(edges) != 1:
            return False
        *edges, _currency = edges.pop()
        low, high = {"small": (None, 0), "medium": (0, 1), "large": (1, 2), "very_large": (2, None)}[size]

        def amount(index):  # in the workbook's currency, which the summary names
            return formatLang(self.env, edges[index], digits=0)

        if low is None:
            return self.env._("below %(amount)s", amount=amount(high))
        if high is None:
            return self.env._("%(amount)s and above", amount=amount(low))
        return self.env._("%(low)s to %(high)s", low=amount(low), high=amount(high))

    # ------------------------------------------------------------ sheets

    def _summary_sheet(self):
        """The funnel table per step, the key figures and a chart; with a
        comparison period, its values and the change next to them."""
        export = self.export
        sheet = self._add_sheet(self.env._("Summary"))
        sheet.fit_to_pages(1, 1)  # the table, the key figures and the chart on one printed page
        sheet.write_string(0, 0, self.env._("Sales Funnel Report"), self.formats["title"])
        progress = self.env["sales.funnel.build"].get_progress()
        if progress:  # figures from a half-built history say so
            self._note(sheet, 1, progress["message"])
        row = self._scope(sheet, 2)
        funnel = export._funnel(export.date_from, export.date_to)
        if not any(line["entered_count"] for line in funnel):
            self._note(sheet, row + 1)
            return
        compared = export._compared_dates()
        comparison = export._funnel(*compared) if compared else None
        header_row = row + 1
        end = self._table(
            sheet, header_row, self._summary_columns(comparison), self._summary_rows(funnel, comparison)
        )
        # why the won step's row may count more entries than wins
        self._note(
            sheet,
            end + 1,
            self.env._(
                "On the won step, Entered counts the deals won in the period; Won, those of them still won "
                "(a deal reopened since is not)."
            ),
        )
        end = self._kpis(sheet, end + 3, compared)
        self._funnel_chart(sheet, header_row, len(funnel), end + 1, comparison)

    def _scope(self, sheet, row):
        """Period, comparison, companies, teams, salespersons and currency,
        one per row from `row`; return the first row after them."""
        export = self.export
        write_date = self._writer(sheet, "date")
        sheet.set_column(0, 0, 28)
        periods = [(self.env._("Period"), (export.date_from, export.date_to))]
        if export._compared_dates():
            periods.append((self.env._("Comparison Period"), export._compared_dates()))
        for label, (date_from, date_to) in periods:
            sheet.write_string(row, 0, label, self.formats["label"])
            write_date(row, 1, date_from)
            write_date(row, 2, date_to)
            row += 1
        scope = [
            (self.env._("Companies"), ", ".join(export.company_ids.mapped("name"))),
            (self.env._("Sales Teams"), ", ".join(export.team_ids.mapped("name")) or self.env._("All")),
            (self.env._("Salespersons"), ", ".join(export.user_ids.mapped("name")) or self.env._("All")),
            (self.env._("Currency"), self.currency.name),
        ]
        for label, value in scope:
            sheet.write_string(row, 0, label, self.formats["label"])
            sheet.write_string(row, 1, value)
            row += 1
        return row

    def _summary_columns(self, comparison):
        measures = list(self._measure_columns().values())
        columns = [Column(self.env._("Funnel Step"), "text", 28), *measures]
        if comparison:
            columns += [
                column._replace(label=self.env._("%(measure)s, comparison", measure=column.label))
                for column in measures
            ]
            columns += [
                column._replace(
                    label=self.env._("%(measure)s, change", measure=column.label),
                    kind=self._change_kind(column.kind),
                )
                for column in measures
            ]
        return columns

    def _summary_rows(self, funnel, comparison):
        names = list(self._measure_columns())
        for index, line in enumerate(funnel):
            values = [line[name] for name in names]
            if comparison:
                before = [comparison[index][name] for name in names]
                values += before + [now - then for now, then in zip(values, before, strict=True)]
            yield (line["step"], *values)

    def _kpis(self, sheet, row, compared):
        """Whole-funnel figures under the funnel table; return the row after."""
        export = self.export
        kpis = export._kpis(export.date_from, export.date_to)
        before = export._kpis(*compared) if compared else None
        labels = [self.env._("Indicator"), self.env._("Value")] + (
            [self.env._("Comparison"), self.env._("Change")] if before else []
        )
        for col, label in enumerate(labels):
            # wide enough for amounts and step names (one column at a time:
            # xlsxwriter would write overlapping ranges, which Excel repairs)
            sheet.set_column(col, col, 34 if col == 0 else 20)
            sheet.write_string(row, col, label, self.formats["header"])
        for key, (label, kind, _width) in self._kpi_columns().items():
            row += 1
            write = self._writer(sheet, kind)
            sheet.write_string(row, 0, label, self.formats["label"])
            write(row, 1, kpis[key])
            if before:
                write(row, 2, before[key])
                if kind != "text":
                    self._writer(sheet, self._change_kind(kind))(
                        row, 3, (kpis[key] or 0) - (before[key] or 0)
                    )
        return row + 1

    def _funnel_chart(self, sheet, header_row, steps, row, comparison):
        """Bars of the entries per step, the first step (the widest) on top."""
        first, last = header_row + 1, header_row + steps
        chart = self.book.add_chart({"type": "bar"})
        series = [(self.env._("Entered"), 1)]
        if comparison:
            series.append((self.env._("Entered, comparison"), 1 + len(self._measure_columns())))
        for name, col in series:
            chart.add_series(
                {
                    "name": name,
                    "categories": [sheet.name, first, 0, last, 0],
                    "values": [sheet.name, first, col, last, col],
                    "data_labels": {"value": True},
                }
            )
        chart.set_title({"name": self.env._("Funnel")})
        # the category axis of a bar chart runs bottom-up: reversed, the first step is on top
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom" if comparison else "none"})
        sheet.insert_chart(row, 0, chart, {"x_scale": 1.6, "y_scale": 1.3})

    def _breakdown_sheet(self, field_name, label):
        """The summary's measures per value of `field_name` and step."""
        export = self.export
        sheet = self._add_sheet(label)
        lines = export._funnel(export.date_from, export.date_to, groupby=[field_name])
        measures = self._measure_columns()
        columns = [
            Column(label, "text", 24),
            Column(self.env._("Funnel Step"), "text", 28),
            *measures.values(),
        ]
        rows = (
            (self._label(field_name, line[field_name]), line["step"], *(line[name] for name in measures))
            for line in lines
        )
        self._table(sheet, 0, columns, rows)

    def _durations_sheet(self):
        """Average and median days per step, per team."""
        export = self.export
        sheet = self._add_sheet(self.env._("Stage Durations"))
        lines = export._funnel(export.date_from, export.date_to, groupby=["team_id"])
        columns = [
            Column(self.env._("Sales Team"), "text", 24),
            Column(self.env._("Funnel Step"), "text", 28),
            Column(self.env._("Entered"), "int", 10),
            Column(self.env._("Average Days"), "days", 12),
            Column(self.env._("Median Days"), "days", 12),
        ]
        rows = (
            (
                self._label("team_id", line["team_id"]),
                line["step"],
                line["entered_count"],
                line["days_in_step"],
                line["days_in_step_median"],
            )
            for line in lines
        )
        self._table(sheet, 0, columns, rows)

    def _forecast_sheet(self):
        """The coming months' forecast of the scope (not of the period): won,
        weighted open, likely and its band; overdue and undated apart."""
        sheet = self._add_sheet(self.env._("Forecast"))
        columns = [
            Column(self.env._("Closing Month"), "text", 22),
            Column(self.env._("Won"), "money", 16),
            Column(self.env._("Weighted Open"), "money", 16),
            Column(self.env._("Likely"), "money", 16),
            Column(self.env._("Spread (±)"), "money", 16),
            Column(self.env._("Low"), "money", 16),
            Column(self.env._("High"), "money", 16),
            Column(self.env._("Opportunities"), "int", 12),
        ]
        rows = (
            (
                line["label"],
                line["won"],
                line["weighted"],
                line["likely"],
                line["spread"],
                line["low"],
                line["high"],
                line["count"],
            )
            for line in self.export._forecast()
        )
        row = self._table(sheet, 0, columns, rows)
        self._note(
            sheet,
            row + 1,
            self.env._(
                "Open opportunities weighted by their stage in the month of their expected closing, won deals in "
                "the month won; the spread is the square root of the summed amount² x p x (1 - p). Overdue and "
                "undated opportunities are in no month."
            ),
        )

    def _pipeline_sheet(self):
        """The open opportunities now (not only those of the period), the
        largest weighted amounts first, `PIPELINE_ROWS` at most."""
        sheet = self._add_sheet(self.env._("Open Pipeline"))
        columns = [
            Column(self.env._("Opportunity"), "text", 32),
            Column(self.env._("Customer"), "text", 24),
            Column(self.env._("Salesperson"), "text", 20),
            Column(self.env._("Sales Team"), "text", 20),
            Column(self.env._("Stage"), "text", 18),
            Column(self.env._("Funnel Step"), "text", 24),
            Column(self.env._("Tier"), "text", 6),
            Column(self.env._("MAN Class"), "text", 10),
            Column(self.env._("Amount"), "money", 16),
            Column(self.env._("Weighted Amount"), "money", 16),
            Column(self.env._("Days in Stage"), "int", 10),
            Column(self.env._("Expected Closing"), "date", 12),
        ]
        Lead = self.export._reading("crm.lead")
        query = Lead._search(
            Domain("won_status", "=", "pending")
            & Domain("type", "=", "opportunity")
            & self.export._scope_domain()
        )
        lead = query.table
        partner = query.left_join(lead, "partner_id", "res_partner", "id", "partner_id")
        select = [
            SQL.identifier(lead, "name"),
            SQL.identifier(partner, "name"),
            *(
                SQL.identifier(lead, fname)
                for fname in ("user_id", "team_id", "stage_id", "priority_tier", "man_class", "company_id")
            ),
            SQL.identifier(lead, "expected_revenue"),
            SQL.identifier(lead, "weighted_revenue"),
            SQL(
                "FLOOR(GREATEST(EXTRACT(EPOCH FROM %s - %s), 0) / 86400)::int",
                fields.Datetime.now(),
                SQL.identifier(lead, "date_last_stage_update"),
            ),
            SQL.identifier(lead, "date_deadline"),
        ]
        users, teams = self._names("res.users"), self._names("crm.team")
        stages = self._names("crm.stage")
        steps = self._names("crm.stage", lambda stage: stage.funnel_step_id.display_name)
        tiers, man_classes = self._labels(Lead, "priority_tier"), self._labels(Lead, "man_class")
        factors = self.export._currency_factors()
        largest_first = [
            SQL("-COALESCE(%s, 0)", SQL.identifier(lead, "weighted_revenue")),
            SQL.identifier(lead, "id"),
        ]
        rows = (
            (name, customer, users[user], teams[team], stages[stage], steps[stage], tiers[tier],
             man_classes[man_class], (amount or 0.0) * factors[company], (weighted or 0.0) * factors[company],
             days, deadline)
            for name, customer, user, team, stage, tier, man_class, company, amount, weighted, days, deadline
            in islice(self._stream(query, largest_first, select), PIPELINE_ROWS)
        )  # fmt: skip
        end = self._table(sheet, 0, columns, rows, empty_note=self.env._("There is no open opportunity."))
        [(total,)] = self.env.execute_query(
            SQL("SELECT COUNT(*) FROM %s WHERE %s", query.from_clause, query.where_clause or SQL("TRUE"))
        )
        if total > PIPELINE_ROWS:
            self._note(
                sheet,
                end + 1,
                self.env._(
                    "The %(shown)s largest of %(total)s open opportunities by weighted amount: CRM's pipeline "
                    "lists them all.",
                    shown=formatLang(self.env, PIPELINE_ROWS, digits=0),
                    total=formatLang(self.env, total, digits=0),
                ),
            )

    def _transitions_sheet(self):
        """Every stage change of the period, one per row, for pivot tables."""
        export = self.export
        sheet = self._add_sheet(self.env._("Transitions"))
        columns = [
            Column(self.env._("Date"), "datetime", 17),
            Column(self.env._("Opportunity"), "text", 32),
            Column(self.env._("Change"), "text", 14),
            Column(self.env._("From Stage"), "text", 18),
            Column(self.env._("To Stage"), "text", 18),
            Column(self.env._("From Step"), "text", 24),
            Column(self.env._("To Step"), "text", 24),
            Column(self.env._("Salesperson"), "text", 20),
            Column(self.env._("Sales Team"), "text", 20),
            Column(self.env._("Company"), "text", 20),
            Column(self.env._("Amount"), "money", 16),
            Column(self.env._("Weighted Amount"), "money", 16),
        ]
        History = self.export._reading("sales.funnel.history")
        query = History._search(export._period_domain(export.date_from, export.date_to))
        history = query.table
        lead = query.left_join(history, "lead_id", "crm_lead", "id", "lead_id")
        date = SQL.identifier(history, "date")
        select = [
            local_sql(self.env, date),
            SQL.identifier(lead, "name"),
            *(
                SQL.identifier(history, fname)
                for fname in (
                    "kind", "from_stage_id", "to_stage_id", "from_step_id", "to_step_id", "user_id", "team_id",
                    "company_id", "expected_revenue", "weighted_revenue",
                )
            ),
        ]  # fmt: skip
        kinds = self._labels(History, "kind")
        stages, steps = self._names("crm.stage"), self._names("sales.funnel.step")
        users, teams, companies = (
            self._names("res.users"),
            self._names("crm.team"),
            self._names("res.company"),
        )
        factors = self.export._currency_factors()
        rows = (
            (when, name, kinds[kind], stages[from_stage], stages[to_stage], steps[from_step], steps[to_step],
             users[user], teams[team], companies[company], (amount or 0.0) * factors[company],
             (weighted or 0.0) * factors[company])
            for when, name, kind, from_stage, to_stage, from_step, to_step, user, team, company, amount, weighted
            in self._stream(query, [date, SQL.identifier(history, "id")], select)
        )  # fmt: skip
        self._table(sheet, 0, columns, rows)

    # ------------------------------------------------------------ SQL and names

    def _stream(self, query, keys, select):
        """The rows of `query` (a `_search` result: record rules applied),
        ordered by `keys`, BATCH_SIZE at a time. Keyset pagination: each
        batch starts where the previous one ended, at the same cost
        wherever it is (an OFFSET would rescan all the rows before it)."""
        where = query.where_clause or SQL("TRUE")
        last = None
        while True:
            after = SQL("TRUE")
            if last:
                # the first key alone lets PostgreSQL start the index scan there
                after = SQL(
                    "%s >= %s AND (%s) > (%s)",
                    keys[0],
                    last[0],
                    SQL(", ").join(keys),
                    SQL(", ").join(SQL("%s", value) for value in last),
                )
            batch = self.env.execute_query(
                SQL(
                    "SELECT %s, %s FROM %s WHERE %s AND %s ORDER BY %s LIMIT %s",
                    SQL(", ").join(keys),
                    SQL(", ").join(select),
                    query.from_clause,
                    where,
                    after,
                    SQL(", ").join(keys),
                    BATCH_SIZE,
                )
            )
            for row in batch:
                yield row[len(keys) :]
            if len(batch) < BATCH_SIZE:
                return
            last = batch[-1][: len(keys)]

    def _labels(self, model, field_name):
        """Labels of a selection field, in the reader's language, by value."""
        return defaultdict(str, model._fields[field_name]._description_selection(self.env))

    def _names(self, model_name, label=None):
        return Names(self.env[model_name], label)


class Names(dict):
    """Names of records by id, each read once, when first asked for: the few
    teams, stages, steps, salespersons... that the rows of a long sheet refer
    to, without joining their tables to every row. Names of what the rows
    the reader may see refer to, as a list view shows them: read as
    superuser."""

    def __init__(self, records, label=None):
        super().__init__()
        self.records = records.sudo()
        self.label = label or (lambda record: record.display_name)

    def __missing__(self, record_id):
        name = self[record_id] = self.label(self.records.browse(record_id)) if record_id else ""
        return name

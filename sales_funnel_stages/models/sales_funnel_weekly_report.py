from dateutil.relativedelta import MO, relativedelta

from odoo import Command, api, fields, models
from odoo.tools import format_date, formatLang, str2bool

# ir.config_parameter: the weekly mails are switched on (Settings > CRM)
WEEKLY_REPORT_PARAM = "sales_funnel_stages.weekly_report"


class SalesFunnelWeeklyReport(models.AbstractModel):
    """The weekly funnel mails, sent every Monday when switched on in the
    settings: each team leader gets the workbook of the previous week for
    the teams they lead, each salesperson with funnel entries that week a
    summary of their own, both with the funnel health warnings they may see.

    Each mail is read with its recipient's rights, language and time zone,
    through an export made as the recipient (`sales.funnel.export`): a team
    leader with "All Documents" gets their teams' figures, one with "Own
    Documents" only their own. Mails go through the mail queue."""

    _name = "sales.funnel.weekly.report"
    _description = "Weekly Sales Funnel Mails"

    @api.model
    def _cron_send(self):
        if not str2bool(self.env["ir.config_parameter"].sudo().get_param(WEEKLY_REPORT_PARAM, "False")):
            return
        teams = self.env["crm.team"].sudo().search([("user_id", "!=", False)])
        for leader, led_teams in teams.grouped("user_id").items():
            if self._may_receive(leader):
                self._send_workbook(leader, led_teams)
        members = self.env["crm.team.member"].sudo().search([]).user_id
        for salesperson in members.filtered(self._may_receive):
            self._send_summary(salesperson)

    @api.model
    def _may_receive(self, user):
        return user.active and user.email and user.has_group("sales_team.group_sale_salesman")

    @api.model
    def _switch(self, active):
        """The scheduled action runs only while the setting is on; switched
        on, it next runs on a Monday morning."""
        cron = self.sudo().env.ref(
            "sales_funnel_stages.ir_cron_weekly_funnel_report", raise_if_not_found=False
        )
        if not cron or cron.active == active:
            return
        values = {"active": active}
        now = fields.Datetime.now()
        if active and cron.nextcall < now:
            values["nextcall"] = now + relativedelta(
                days=1, weekday=MO, hour=6, minute=0, second=0, microsecond=0
            )
        cron.write(values)

    @api.model
    def _export_for(self, user, values):
        """An export of last week made by `user` (whose rights it reads
        with), in their language and time zone and in the companies they
        work in."""
        Export = self.env["sales.funnel.export"].with_user(user).sudo()
        reader = Export.with_context(lang=user.lang, tz=user.tz or "UTC")
        values["company_ids"] = (values["company_ids"] & user.company_ids or user.company_ids).ids
        return reader.create({"period": "last_week", **values})._in_export_companies()

    @api.model
    def _send_workbook(self, leader, teams):
        export = self._export_for(
            leader, {"company_ids": teams.company_id or leader.company_ids, "team_ids": teams.ids}
        )
        kpis = export._kpis(export.date_from, export.date_to)
        body = self._render(
            export,
            "sales_funnel_stages.weekly_funnel_workbook_mail",
            {
                "user": leader,
                "teams": teams,
                "kpis": kpis,
                "win_rate": self._percent(export, kpis["win_rate"]),
                "diagnosis": self._diagnosis(export, leader, teams=teams),
                "forecast": self._forecast(export),
            },
        )
        subject = export.env._(
            "Sales funnel report, week of %(start)s", start=format_date(export.env, export.date_from)
        )
        self._queue_mail(export, leader, subject, body, attachment=export._workbook_attachment())

    @api.model
    def _send_summary(self, salesperson):
        export = self._export_for(
            salesperson, {"company_ids": salesperson.company_ids, "user_ids": salesperson.ids}
        )
        funnel = export._funnel(export.date_from, export.date_to)
        if not any(line["entered_count"] for line in funnel):
            return
        kpis = export._kpis(export.date_from, export.date_to)
        lines = [
            dict(line, conversion=self._percent(export, line["conversion_rate"]))
            for line in funnel
            if line["entered_count"]
        ]
        body = self._render(
            export,
            "sales_funnel_stages.weekly_funnel_summary_mail",
            {
                "user": salesperson,
                "lines": lines,
                "kpis": kpis,
                "win_rate": self._percent(export, kpis["win_rate"]),
                "weakest_conversion": self._percent(export, kpis["weakest_conversion"] or 0.0),
                "diagnosis": self._diagnosis(export, salesperson, users=salesperson),
                "forecast": self._forecast(export),
            },
        )
        subject = export.env._(
            "Your sales funnel, week of %(start)s", start=format_date(export.env, export.date_from)
        )
        self._queue_mail(export, salesperson, subject, body)

    @api.model
    def _diagnosis(self, export, reader, teams=None, users=None):
        """The funnel health rows of `teams` (and their salespeople) or of
        `users` that have warnings, as `export`'s maker may read them; deals
        won without funnel history only for a Sales administrator."""
        rows = export._reading("sales.funnel.diagnosis")._diagnose(
            teams=teams, users=users, show_restricted=reader.has_group("sales_team.group_sale_manager")
        )
        return [row for row in rows if row["warnings"]]

    @api.model
    def _forecast(self, export):
        """The coming months' forecast lines, amounts written in the reader's
        company currency."""
        currency = export.env.company.currency_id
        return [
            dict(
                line,
                **{
                    key: formatLang(export.env, line[key], currency_obj=currency)
                    for key in ("won", "weighted", "likely", "spread")
                },
            )
            for line in export._forecast()
        ]

    def _percent(self, export, value):
        return f"{formatLang(export.env, value, digits=1)} %"

    @api.model
    def _render(self, export, template, values):
        return export.env["ir.qweb"]._render(
            template,
            {
                **values,
                "date_from": format_date(export.env, export.date_from),
                "date_to": format_date(export.env, export.date_to),
            },
        )

    @api.model
    def _queue_mail(self, export, user, subject, body, attachment=None):
        company = export.env.company
        self.env["mail.mail"].sudo().create(
            {
                "subject": subject,
                "body_html": body,
                "email_from": company.email_formatted
                or self.env["ir.mail_server"].with_company(company)._get_default_from_address(),
                "recipient_ids": [Command.link(user.partner_id.id)],
                "attachment_ids": [Command.create(attachment)] if attachment else [],
                "auto_delete": True,
            }
        )

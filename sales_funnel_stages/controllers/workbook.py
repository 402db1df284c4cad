from urllib.parse import quote

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools.misc import replace_exceptions

from ..wizards.sales_funnel_workbook import XLSX_MIMETYPE


class FunnelWorkbookController(http.Controller):
    def _export_replayed(self, rule, args):
        """Served read-only (by a read replica, where there is one) once the
        export's choices as they were when its button was pressed (`version`,
        the time of their last change) are there: written a moment ago on the
        primary, they may not have reached the replica yet."""
        export = request.env["sales.funnel.export"].sudo().browse(args["export_id"]).exists()
        version = request.httprequest.args.get("version")
        return bool(export and version and fields.Datetime.to_string(export.write_date) >= version)

    @http.route("/sales_funnel/workbook/<int:export_id>", type="http", auth="user", readonly=_export_replayed)
    def download_workbook(self, export_id):
        """The workbook of an export, built as it is downloaded, with the
        user's rights (an export is its maker's alone), saved under its
        translated name, with a plain ASCII name beside it for the programs
        that cannot read the other: left to itself, the web server would
        drop every Chinese letter of it."""
        with replace_exceptions(UserError, by=request.not_found()):
            export = request.env["sales.funnel.export"].browse(export_id)
            export.check_access("read")
            export._check_scope()
            export = export._in_export_companies()
        workbook = export._workbook()
        translated = quote(export._file_name(), safe="")
        return request.make_response(
            workbook,
            headers=[
                ("Content-Type", XLSX_MIMETYPE),
                ("Content-Length", str(len(workbook))),
                (
                    "Content-Disposition",
                    f"attachment; filename=\"{export._ascii_file_name()}\"; filename*=UTF-8''{translated}",
                ),
            ],
        )

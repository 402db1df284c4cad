from urllib.parse import quote

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools.misc import replace_exceptions


class FunnelWorkbookController(http.Controller):
    def _workbook_replayed(self, rule, args):
        """Served read-only (by a read replica, where there is one) once the
        workbook is there: written a moment ago on the primary, it may not
        have reached the replica yet."""
        export = request.env["sales.funnel.export"].sudo().browse(args["export_id"]).exists()
        return bool(export.file_data)

    @http.route(
        "/sales_funnel/workbook/<int:export_id>", type="http", auth="user", readonly=_workbook_replayed
    )
    def download_workbook(self, export_id):
        """The workbook of an export, read as `/web/content` reads it (the
        user's rights), saved under its translated name, with a plain ASCII
        name beside it for the programs that cannot read the other: left to
        itself, the web server would drop every Chinese letter of it."""
        binary = request.env["ir.binary"]
        with replace_exceptions(UserError, by=request.not_found()):
            export = binary._find_record(res_model="sales.funnel.export", res_id=export_id, field="file_data")
            stream = binary._get_stream_from(export, "file_data", filename_field="file_name")
        response = stream.get_response(as_attachment=True)
        translated = quote(stream.download_name, safe="")
        response.headers["Content-Disposition"] = (
            f"attachment; filename=\"{export._ascii_file_name()}\"; filename*=UTF-8''{translated}"
        )
        return response

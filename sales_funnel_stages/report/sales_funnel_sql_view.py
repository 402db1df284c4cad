from odoo import api, models


class SalesFunnelSqlView(models.AbstractModel):
    """Read-only models computed by one big SQL query (`_table_query`) over
    the opportunities and their history.

    PostgreSQL compiles such queries just in time (their estimated cost is
    far above `jit_above_cost`), which takes seconds and gains nothing on
    their simple expressions: measured on a million leads, 3.2 of the 5 s of
    the funnel health query. JIT is switched off for the transaction of any
    search, count or grouping of these models, and of reading their rows.
    """

    _name = "sales.funnel.sql.view"
    _description = "Sales Funnel SQL View"

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        self.flush_model()  # a search that names no field (a count) reads the summary too
        self._without_jit()
        return super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)

    def _fetch_query(self, query, fields):
        self._without_jit()
        return super()._fetch_query(query, fields)

    def flush_model(self, fnames=None):
        # the views read the per-lead summary and the history in SQL
        self.env["sales.funnel.lead.step"].flush_model()
        self.env["sales.funnel.history"].flush_model()
        return super().flush_model(fnames)

    def _without_jit(self):
        self.env.cr.execute("SET LOCAL jit = off")

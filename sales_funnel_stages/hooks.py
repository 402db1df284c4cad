"""Install hooks: the install carries the catalog only.

New columns of crm_lead are added with constant values, which PostgreSQL
records in the catalog without touching a row (11+); the ORM, finding them,
neither initialises nor recomputes them. The stages are mapped onto the
funnel steps. Everything that reads or writes every lead (weighted revenue
and tier, the stage history from crm's tracking, the per-lead summary) is
left to the build that the install queues (`sales.funnel.build`), chunk by
chunk, after the install has committed: a large database keeps selling
while it runs.
"""

from odoo.tools import SQL, sql

# (table, column, type, constant value for existing rows, NOT NULL)
NEW_COLUMNS = [
    ("crm_lead", "weighted_revenue", "numeric", None, False),
    ("crm_lead", "priority_tier", "varchar", None, False),
    ("crm_lead", "priority_tier_override", "varchar", None, False),
    ("crm_lead", "man_money", "varchar", "unknown", True),
    ("crm_lead", "man_authority", "varchar", "unknown", True),
    ("crm_lead", "man_need", "varchar", "unknown", True),
    ("crm_lead", "man_money_note", "varchar", None, False),
    ("crm_lead", "man_authority_note", "varchar", None, False),
    ("crm_lead", "man_need_note", "varchar", None, False),
    ("crm_lead", "man_class", "varchar", "not_assessed", False),
]


def pre_init_hook(env):
    """Create the columns before the ORM sees the fields, so that it neither
    initialises nor recomputes them (it only does so for columns it creates)."""
    cr = env.cr
    for table, column, column_type, value, not_null in NEW_COLUMNS:
        if sql.column_exists(cr, table, column):
            continue
        if value is None:
            sql.create_column(cr, table, column, column_type)
            continue
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN %s %s %s DEFAULT %s",
                SQL.identifier(table),
                SQL.identifier(column),
                SQL(column_type),
                SQL("NOT NULL") if not_null else SQL(),
                value,
            )
        )
        # Existing rows keep the value; new rows get theirs from the ORM.
        cr.execute(
            SQL("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", SQL.identifier(table), SQL.identifier(column))
        )


def post_init_hook(env):
    env["crm.stage"]._funnel_setup_stages()
    env["sales.funnel.build"]._queue()

"""Install hooks: new columns of crm_lead and res_partner are created and
filled in SQL, in one pass over each table.

Left to the ORM, every stored field added to crm_lead would be initialised or
recomputed on its own, record by record; on a database of a million leads that
is a minute per field, and each UPDATE pass rewrites every row and its indexes.
Constant defaults are free in PostgreSQL (11+): `ADD COLUMN ... DEFAULT` only
records the value in the catalog. The computed values (weighted revenue, tier)
are then written by a single UPDATE (`crm.lead._funnel_refresh_values`).
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
    ("res_partner", "funnel_best_tier", "varchar", None, False),
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
    env["crm.lead"]._funnel_refresh_values()

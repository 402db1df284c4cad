"""Install hooks: new columns of crm_lead and res_partner are created and
filled in SQL, in one pass over each table.

Left to the ORM, every stored field added to crm_lead would be initialised or
recomputed on its own, record by record; on a database of a million leads that
is a minute per field, and each UPDATE pass rewrites every row and its indexes.
Constant defaults are free in PostgreSQL (11+): `ADD COLUMN ... DEFAULT` only
records the value in the catalog. The computed values (weighted revenue, tier)
are then written by a single UPDATE (`crm.lead._funnel_refresh_values`).
"""

import logging
import time
from contextlib import contextmanager

from odoo.tools import SQL, sql

_logger = logging.getLogger(__name__)

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


# Settings of the loads, for their statements only:
# - room for their sorts and hash tables (millions of rows), and for the
#   index builds after them, in memory;
# - no JIT compilation, which costs seconds on these long queries and gains
#   nothing on the simple expressions of a load;
# - no nested loops: the planner estimates the rows coming out of CTE
#   aggregates at 200 and would probe an index a million times; no merge
#   joins: misled the same way, it sorts millions of events to join them
#   with the leads, where hashing the leads is 2 s faster on a million.
BULK_SETTINGS = {
    "work_mem": "1GB",
    "maintenance_work_mem": "1GB",
    "jit": "off",
}
# For the backfill's one statement over whole tables only: the per-lead
# summary is written chunk by chunk, each chunk joined to the leads by id.
WHOLE_TABLE_SETTINGS = dict(BULK_SETTINGS, enable_nestloop="off", enable_mergejoin="off")


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
    steps = [
        ("map stages onto funnel steps", env["crm.stage"]._funnel_setup_stages, None, None),
        ("fill weighted revenues and tiers", env["crm.lead"]._funnel_refresh_values, None, None),
        (
            "rebuild the stage history",
            env["sales.funnel.history"]._backfill,
            "sales_funnel_history",
            WHOLE_TABLE_SETTINGS,
        ),
        (
            "summarise the funnel per lead",
            env["sales.funnel.lead.step"]._rebuild,
            "sales_funnel_lead_step",
            BULK_SETTINGS,
        ),
    ]
    for name, step, bulk_table, settings in steps:
        started = time.monotonic()
        with bulk_load(env.cr, bulk_table, settings):
            step()
        _logger.info("sales_funnel_stages install: %s in %.1f s", name, time.monotonic() - started)


@contextmanager
def bulk_load(cr, table, settings=None):
    """Fill a new, empty table of millions of rows fast: without its
    primary key, other indexes, unique constraints and foreign keys, which
    would be maintained or checked row by row (on the stage history, keeping
    the primary key alone costs more than building it afterwards three times).

    Indexes, primary key and unique constraints are built again afterwards in
    one pass each. The foreign keys come back NOT VALID: they hold for every later
    write, and the rows loaded here come from joins on the referenced tables,
    so scanning them all again would only cost time. Odoo identifies its
    constraints by name (and foreign keys by table, column and delete rule),
    all kept.
    """
    if not table:
        yield
        return
    cr.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
         WHERE conrelid = %s::regclass AND contype IN ('f', 'p', 'u')
        """,
        [table],
    )
    constraints = cr.fetchall()
    cr.execute(
        """
        SELECT index.indexname, index.indexdef FROM pg_indexes AS index
         WHERE index.tablename = %s AND index.schemaname = current_schema
           AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = index.indexname)
        """,
        [table],
    )
    indexes = cr.fetchall()
    for name, _definition, _type in constraints:
        cr.execute(SQL("ALTER TABLE %s DROP CONSTRAINT %s", SQL.identifier(table), SQL.identifier(name)))
    for name, _definition in indexes:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    previous = _set_local(cr, settings or BULK_SETTINGS)
    yield
    for _name, definition in indexes:
        cr.execute(definition)
    for name, definition, constraint_type in constraints:
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD CONSTRAINT %s %s %s",
                SQL.identifier(table),
                SQL.identifier(name),
                SQL(definition),  # pylint: disable=sql-injection
                SQL("NOT VALID") if constraint_type == "f" else SQL(),
            )
        )
    # after the index builds, which use maintenance_work_mem
    _set_local(cr, previous)


def _set_local(cr, settings):
    """Set `settings` for the rest of the transaction; return the values
    they replace."""
    previous = {}
    for setting, value in settings.items():
        cr.execute("SELECT current_setting(%s), set_config(%s, %s, TRUE)", [setting, setting, value])
        previous[setting] = cr.fetchone()[0]
    return previous

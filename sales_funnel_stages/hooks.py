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

import json

from odoo.tools import SQL, sql

from .demo import funnel_demo

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
    ("crm_team", "funnel_probability_mode", "varchar", "automatic", True),
    ("crm_team", "funnel_key_step_mode", "varchar", "propose", True),
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


def set_column_defaults(cr):
    """The constant value of each new column stays its database default: a
    module loaded before this one (an update of crm_sms, whose tests create
    a sales team) writes rows without knowing the column, and a NOT NULL
    column without a default would refuse them."""
    for table, column, _column_type, value, _not_null in NEW_COLUMNS:
        if value is not None:
            cr.execute(
                SQL(
                    "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    value,
                )
            )


# ir.config_parameter: {stage id: sequence} of the stages before the install
STAGE_SEQUENCES = "sales_funnel_stages.stage_sequences_before_install"


def post_init_hook(env):
    env.cr.execute("SELECT id, sequence FROM crm_stage")
    env["ir.config_parameter"].sudo().set_param(STAGE_SEQUENCES, json.dumps(dict(env.cr.fetchall())))
    env["crm.stage"]._funnel_setup_stages()
    demo = env.ref("base.module_sales_funnel_stages").demo
    if demo:
        funnel_demo.generate(env)
    env["sales.funnel.build"]._queue(now=demo)


# The leads of the demo data are the module's records, deleted with it: they
# keep neither a stage nor a lost reason.
CUSTOMER_LEADS = SQL(
    """
    customer_lead AS (
        SELECT lead.id, lead.stage_id, lead.lost_reason_id FROM crm_lead AS lead
         WHERE NOT EXISTS (SELECT 1 FROM ir_model_data AS demo
                            WHERE demo.module = 'sales_funnel_stages' AND demo.model = 'crm.lead'
                              AND demo.res_id = lead.id)
    )
    """
)


def uninstall_hook(env):
    """Leave the customer's pipeline as it was before the install.

    Odoo deletes the module's records before it drops its tables and
    columns: the funnel's own tables are emptied first (deleting the steps
    would otherwise update or delete their millions of rows one by one), the
    stages let go of the steps they map onto, and records that the
    customer's data still uses stay, as theirs: the stages the addon created
    that a lead is in or a tracked move went through, the lost reason a lead
    was lost for. crm's stages get their order back."""
    cr = env.cr
    cr.execute("TRUNCATE sales_funnel_history, sales_funnel_lead_step")
    cr.execute("UPDATE crm_stage SET funnel_step_id = NULL WHERE funnel_step_id IS NOT NULL")
    stage_field = env["ir.model.fields"]._get("crm.lead", "stage_id").id
    cr.execute(
        SQL(
            """
            WITH %(customer_leads)s
            DELETE FROM ir_model_data AS imd
             WHERE imd.module = 'sales_funnel_stages' AND imd.model = 'crm.stage'
               AND (EXISTS (SELECT 1 FROM customer_lead WHERE stage_id = imd.res_id)
                    OR EXISTS (SELECT 1 FROM mail_tracking_value AS tracking
                                 JOIN mail_message AS message ON message.id = tracking.mail_message_id
                                 JOIN customer_lead ON customer_lead.id = message.res_id
                                WHERE tracking.field_id = %(stage_field)s AND message.model = 'crm.lead'
                                  AND imd.res_id IN (tracking.old_value_integer, tracking.new_value_integer)))
            """,
            customer_leads=CUSTOMER_LEADS,
            stage_field=stage_field,
        )
    )
    cr.execute(
        SQL(
            """
            WITH %(customer_leads)s
            DELETE FROM ir_model_data AS imd
             WHERE imd.module = 'sales_funnel_stages' AND imd.model = 'crm.lost.reason'
               AND EXISTS (SELECT 1 FROM customer_lead WHERE lost_reason_id = imd.res_id)
            """,
            customer_leads=CUSTOMER_LEADS,
        )
    )
    Parameter = env["ir.config_parameter"].sudo()
    sequences = json.loads(Parameter.get_param(STAGE_SEQUENCES) or "{}")
    for stage_id, sequence in sequences.items():
        cr.execute("UPDATE crm_stage SET sequence = %s WHERE id = %s", [sequence, int(stage_id)])
    Parameter.search([("key", "=", STAGE_SEQUENCES)]).unlink()
    env["crm.stage"].invalidate_model()

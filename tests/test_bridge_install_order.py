"""crm_stage_probability installed on a database that already runs the
funnel: the bridge installs by itself, and the probabilities that module's
data writes on crm's stages (Qualified 30, Proposition 70) do not replace
the funnel's weights (25, 75); the stages' probabilities follow the weights."""


def test_oca_module_installed_after_the_funnel(odoo, fresh_db):
    odoo.run("-d", fresh_db, "-i", "sales_funnel_stages", "--stop-after-init")
    odoo.run("-d", fresh_db, "-i", "crm_stage_probability", "--stop-after-init")
    bridge = odoo.psql(
        fresh_db,
        "SELECT state FROM ir_module_module WHERE name = 'sales_funnel_stages_crm_stage_probability'",
    )
    assert bridge == "installed"
    stages = odoo.psql(
        fresh_db,
        "SELECT data.name, stage.funnel_weight, COALESCE(stage.funnel_weight_custom, FALSE), stage.probability"
        "  FROM crm_stage AS stage JOIN ir_model_data AS data"
        "    ON data.model = 'crm.stage' AND data.res_id = stage.id AND data.module = 'crm'"
        " WHERE data.name IN ('stage_lead2', 'stage_lead3') ORDER BY data.name",
    )
    assert stages.split() == ["stage_lead2|25.00|f|25", "stage_lead3|75.00|f|75"]

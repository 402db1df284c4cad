{
    "name": "Sales Funnel Stages - CRM Stage Probability",
    "summary": "One probability when Sales Funnel Stages and OCA's CRM stage probability are both "
    "installed: the stage's funnel weight",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "Sales Funnel Stages contributors",
    # crm_stage_probability is AGPL-3
    "license": "AGPL-3",
    "depends": ["sales_funnel_stages", "crm_stage_probability"],
    "data": ["views/crm_stage_views.xml"],
    "auto_install": True,
    "post_init_hook": "post_init_hook",
}

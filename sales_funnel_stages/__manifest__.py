{
    "name": "Sales Funnel Stages",
    "summary": "Six-step sales funnel on Odoo CRM: stage weights, MAN "
    "qualification, A/B/C/D tiers, funnel analytics",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "Sales Funnel Stages contributors",
    "license": "LGPL-3",
    "depends": ["crm"],
    "data": [
        "security/ir.model.access.csv",
        "data/sales_funnel_step_data.xml",
        "views/sales_funnel_step_views.xml",
        "views/menus.xml",
    ],
}

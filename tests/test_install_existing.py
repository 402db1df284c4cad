"""Install on a database that already runs crm with leads and custom stages,
then uninstall: nothing of the company's CRM is lost, crm keeps working."""

import pytest

from conftest import harness

SEED = """
import json
Stage = env['crm.stage']
team = env['crm.team'].create({'name': 'Existing team'})
stages = Stage.create([
    {'name': 'Prospect', 'sequence': 5, 'team_ids': [(6, 0, team.ids)]},
    {'name': 'Meeting', 'sequence': 6, 'team_ids': [(6, 0, team.ids)]},
    {'name': 'Contract', 'sequence': 8, 'team_ids': [(6, 0, team.ids)]},
])
leads = env['crm.lead'].create([
    {'name': f'Existing {i}', 'type': 'opportunity', 'team_id': team.id,
     'stage_id': stages[i % 3].id, 'expected_revenue': 1000 * (i + 1)}
    for i in range(30)
])
leads[:3].action_set_lost()
env.cr.commit()
print('JSON ' + json.dumps({'stages': sorted(Stage.search([]).mapped(lambda s: [s.id, s.name])),
                            'leads': env['crm.lead'].with_context(active_test=False).search_count([])}))
"""

STATE = """
import json
Stage = env['crm.stage']
print('JSON ' + json.dumps({'stages': sorted(Stage.search([]).mapped(lambda s: [s.id, s.name])),
                            'leads': env['crm.lead'].with_context(active_test=False).search_count([])}))
"""

UNINSTALL = """
env['ir.module.module'].search([('name', '=', 'sales_funnel_stages')]).button_immediate_uninstall()
env.cr.commit()
"""

CRM_STILL_WORKS = """
import json
stage = env['crm.stage'].search([('name', '=', 'Contract')])
lead = env['crm.lead'].create({'name': 'After uninstall', 'type': 'opportunity', 'expected_revenue': 500})
lead.stage_id = stage
lead.action_set_won()
env.cr.commit()
print('JSON ' + json.dumps({'won': lead.won_status, 'stage_won': lead.stage_id.is_won}))
"""


@pytest.fixture
def crm_db(odoo, fresh_db):
    odoo.run("-d", fresh_db, "-i", "crm", "--stop-after-init")
    return fresh_db


def test_install_then_uninstall(odoo, crm_db):
    before = odoo.shell(crm_db, SEED)[0]
    assert before["leads"] == 30

    odoo.run("-d", crm_db, "-i", harness.ADDON, "--stop-after-init")
    assert harness.addon_installed(odoo.env, crm_db)
    after = odoo.shell(crm_db, STATE)[0]
    # no stage of the company deleted or renamed, no lead lost
    assert after == before

    odoo.shell(crm_db, UNINSTALL)
    state = odoo.psql(crm_db, "SELECT state FROM ir_module_module WHERE name = 'sales_funnel_stages'")
    assert state == "uninstalled"
    assert odoo.psql(crm_db, "SELECT to_regclass('sales_funnel_step') IS NULL") == "t"
    assert odoo.shell(crm_db, STATE)[0] == before
    assert odoo.shell(crm_db, CRM_STILL_WORKS)[0] == {"won": "won", "stage_won": True}

"""`make run` serves the Odoo login page on 127.0.0.1 (same code path)."""

import os
import subprocess
import sys

from conftest import ROOT, harness, wait_for_http


def test_run_serves_login_page(odoo, fresh_db):
    port = harness.free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "harness.py"), "run", "--db", fresh_db, "--port", str(port)],
        env=os.environ | odoo.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Creating the database with demo data takes a while on the first run.
        response = wait_for_http(f"http://127.0.0.1:{port}/web/login", server, timeout=900)
        assert response.status_code == 200
        assert 'name="login"' in response.text and 'name="password"' in response.text
    finally:
        server.terminate()
        server.wait(timeout=60)
    installed = odoo.psql(
        fresh_db,
        "SELECT name FROM ir_module_module"
        " WHERE state = 'installed' AND name IN ('crm', 'sales_funnel_stages')",
    )
    assert sorted(installed.split()) == ["crm", "sales_funnel_stages"]
    demo = odoo.psql(fresh_db, "SELECT count(*) FROM ir_module_module WHERE name = 'base' AND demo")
    assert demo == "1"
    # a living funnel: about 2,000 opportunities over 18 months, with
    # advances, regressions, losses at every step, restorations and wins
    moves = dict(
        line.split("|")
        for line in odoo.psql(
            fresh_db, "SELECT kind, count(*) FROM sales_funnel_history GROUP BY kind"
        ).split()
    )
    assert int(moves["enter"]) >= 2000
    assert all(int(moves[kind]) > 100 for kind in ("advance", "regress", "lost", "restored", "won"))
    steps_with_losses = odoo.psql(
        fresh_db, "SELECT count(DISTINCT from_step_id) FROM sales_funnel_history WHERE kind = 'lost'"
    )
    assert steps_with_losses == "5", "losses at every step before the win"
    months = odoo.psql(
        fresh_db, "SELECT EXTRACT(EPOCH FROM max(date) - min(date)) / 86400 / 30 FROM sales_funnel_history"
    )
    assert float(months) >= 17
    # built from crm's tracking, as on a database that had crm before
    assert odoo.psql(fresh_db, "SELECT bool_and(backfilled) FROM sales_funnel_history") == "t"
    # won deals reopened
    reopened = odoo.psql(
        fresh_db,
        "SELECT count(*) FROM sales_funnel_history AS history JOIN crm_stage AS stage"
        " ON stage.id = history.from_stage_id WHERE stage.is_won AND history.kind = 'regress'",
    )
    assert int(reopened) > 0
    # steps convert differently: the weakest one stands out
    conversions = [
        float(rate)
        for rate in odoo.psql(
            fresh_db,
            "SELECT avg(advanced::int) FROM sales_funnel_lead_step AS summary"
            " JOIN sales_funnel_step AS step ON step.id = summary.step_id"
            " WHERE step.code <> 'after_sales' GROUP BY step.sequence ORDER BY step.sequence",
        ).split()
    ]
    assert len(conversions) == 5
    weakest, second = sorted(conversions)[:2]
    assert second - weakest > 0.1, conversions
    # the new opportunities of a month vary with the season
    per_month = [
        int(count)
        for count in odoo.psql(
            fresh_db,
            "SELECT count(*) FROM sales_funnel_history WHERE kind = 'enter'"
            " AND date >= date_trunc('month', (SELECT min(date) FROM sales_funnel_history)) + interval '1 month'"
            " AND date < date_trunc('month', now()) GROUP BY date_trunc('month', date)",
        ).split()
    ]
    assert max(per_month) > 1.8 * min(per_month), per_month
    # customers' and deals' names read as real ones, in English and Chinese
    names = odoo.psql(fresh_db, "SELECT name FROM crm_lead ORDER BY id DESC LIMIT 400").splitlines()
    assert any("有限公司" in name for name in names)
    assert any(name.split(" · ")[-1].isascii() for name in names)
    assert not any("opportunity" in name for name in names)


def test_demo_is_not_doubled(odoo, fresh_db):
    """Uninstalling takes the demo's records with the module; a reinstall
    with demo data brings them back once."""
    odoo.run("-d", fresh_db, "-i", f"crm,{harness.ADDON}", "--with-demo", "--stop-after-init")
    count = "SELECT count(*) FROM crm_lead"
    before = odoo.psql(fresh_db, count)
    odoo.shell(
        fresh_db,
        "env['ir.module.module'].search([('name', '=', 'sales_funnel_stages')]).button_immediate_uninstall()",
    )
    assert int(odoo.psql(fresh_db, count)) < 100, "crm's own demo leads stay"
    # the demo teams' own stages went with them: none is left in every pipeline
    assert (
        odoo.psql(
            fresh_db,
            "SELECT string_agg(name->>'en_US', ', ') FROM crm_stage WHERE id NOT IN"
            " (SELECT res_id FROM ir_model_data WHERE model = 'crm.stage' AND module = 'crm')",
        )
        == ""
    )
    odoo.shell(
        fresh_db,
        "env['ir.module.module'].search([('name', '=', 'sales_funnel_stages')]).button_immediate_install()",
    )
    assert odoo.psql(fresh_db, count) == before

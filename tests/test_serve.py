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
    # advances, regressions, losses at every step and wins
    moves = dict(
        line.split("|")
        for line in odoo.psql(
            fresh_db, "SELECT kind, count(*) FROM sales_funnel_history GROUP BY kind"
        ).split()
    )
    assert int(moves["enter"]) >= 2000
    assert all(int(moves[kind]) > 100 for kind in ("advance", "regress", "lost", "won"))
    steps_with_losses = odoo.psql(
        fresh_db, "SELECT count(DISTINCT from_step_id) FROM sales_funnel_history WHERE kind = 'lost'"
    )
    assert steps_with_losses == "5", "losses at every step before the win"
    months = odoo.psql(
        fresh_db, "SELECT EXTRACT(EPOCH FROM max(date) - min(date)) / 86400 / 30 FROM sales_funnel_history"
    )
    assert float(months) >= 17

"""A real read replica: Odoo served with `--workers 2` against a primary
and its streaming standby (`pg_basebackup -R`, a second port).

The funnel's reports, chart data, KPIs, funnel health, the read-only actions
and the workbook download must run on the standby (Odoo's request log says
`ro` for their requests, the standby's statement log holds their queries, the
primary's does not); every request that writes runs on the primary (`rw`)
and never falls back from the standby (`ro->rw`).

The two clusters are this test's own, under .local/replica, so that a large
benchmark database in the harness's cluster is not copied.
"""

import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from conftest import ROOT, harness, wait_for_http

DB = "sales_funnel_replica"
LOGIN = "admin"
# a query of each reading screen, as its SQL reads in the statement log
REPORT_SQL = "FROM sales_funnel_lead_step AS summary"
HEALTH_SQL = "sales_funnel_diagnosis"


class Cluster:
    def __init__(self, path, port):
        self.path, self.port = path, port
        self.bindir = harness.pg_bindir()
        self.log = path.parent / f"{path.name}.log"

    def run(self, name, *args):
        result = subprocess.run(
            harness.as_postgres([str(self.bindir / name), *args]), capture_output=True, text=True, check=False
        )
        assert not result.returncode, f"{name} failed:\n{result.stdout}{result.stderr}"
        return result.stdout

    def start(self, *settings):
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''"]
        # every statement, with its database, for the test to read
        options += ["-c log_statement=all", "-c log_line_prefix='%m %d '", *(f"-c {s}" for s in settings)]
        self.run("pg_ctl", "-D", str(self.path), "-l", str(self.log), "-o", " ".join(options), "-w", "start")

    def stop(self):
        if (self.path / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.path), "-m", "fast", "-w", "stop")

    def env(self, user="odoo"):
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": user}

    def log_size(self):
        return self.log.stat().st_size

    def log_since(self, offset):
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def clusters():
    base = ROOT / ".local" / "replica"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    primary = Cluster(base / "primary", harness.free_port())
    standby = Cluster(base / "standby", harness.free_port())
    try:
        primary.run("initdb", "-D", str(primary.path), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        # initdb's pg_hba.conf lets 127.0.0.1 replicate; wal_level is `replica`
        primary.start()
        harness.psql(primary.env("postgres"), "postgres", "CREATE ROLE odoo LOGIN CREATEDB")
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        if not os.environ.get("SFS_KEEP_REPLICA"):
            shutil.rmtree(base, ignore_errors=True)


def odoo_bin(primary, *args, subcommand=None, stdin=None):
    cmd = harness.odoo_cmd(
        harness.odoo_path(), "-d", DB, "--db_host=127.0.0.1", f"--db_port={primary.port}", *args,
        subcommand=subcommand,
    )  # fmt: skip
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False, env=os.environ)
    assert not result.returncode, f"odoo-bin failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


# Opportunities of one team moved along its pipeline, then a few lost: the
# figures the replica must show, written on the primary.
FUNNEL = """
team = env["crm.team"].create({"name": "Replica team", "funnel_probability_mode": "stage_weight"})
stages = env["crm.stage"].search([("is_won", "=", False), ("funnel_step_id", "!=", False)], order="sequence")
for index in range(24):
    lead = env["crm.lead"].create({"name": f"Replica {index}", "type": "opportunity", "team_id": team.id,
                                   "stage_id": stages[0].id, "expected_revenue": 1000 * (index + 1),
                                   "man_need": "yes", "man_authority": "yes"})
    for stage in stages[1: 1 + index % len(stages)]:
        lead.stage_id = stage
    if index % 5 == 0:
        lead.action_set_lost()
env.cr.commit()
"""


@pytest.fixture(scope="module")
def served(clusters):
    primary, standby = clusters
    odoo_bin(primary, "-i", "sales_funnel_stages", "--stop-after-init", "--log-level=warn", "--no-http")
    odoo_bin(primary, "--log-level=warn", "--no-http", subcommand="funnel_build")
    odoo_bin(primary, "--log-level=warn", "--no-http", subcommand="shell", stdin=FUNNEL)
    standby.run(
        "pg_basebackup", "-D", str(standby.path), "-R", "-X", "stream", "--checkpoint=fast", "-h", "127.0.0.1",
        "-p", str(primary.port), "-U", "postgres",
    )  # fmt: skip
    standby.start("hot_standby=on")
    port = harness.free_port()
    log = primary.path.parent / "odoo.log"
    cmd = harness.odoo_cmd(
        harness.odoo_path(), "-d", DB, f"--db-filter=^{DB}$", "--db_host=127.0.0.1", f"--db_port={primary.port}",
        "--db_replica_host=127.0.0.1", f"--db_replica_port={standby.port}", "--workers=2",
        "--max-cron-threads=0", "--http-interface=127.0.0.1", f"--http-port={port}",
        f"--gevent-port={harness.free_port()}", f"--logfile={log}", "--log-level=info",
    )  # fmt: skip
    server = subprocess.Popen(cmd, env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/web/login", server, timeout=180)
        session = requests.Session()
        rpc(session, port, "/web/session/authenticate", {"db": DB, "login": LOGIN, "password": LOGIN})
        yield Served(session, port, primary, standby, log, server)
    finally:
        server.terminate()
        server.wait(timeout=60)


def rpc(session, port, path, params):
    response = session.post(
        f"http://127.0.0.1:{port}{path}",
        json={"jsonrpc": "2.0", "method": "call", "params": params},
        timeout=120,
    )
    response.raise_for_status()
    body = response.json()
    assert "error" not in body, json.dumps(body["error"], indent=1)[:3000]
    return body["result"]


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the standby did not replay the primary in time"
        time.sleep(0.2)


class Served:
    def __init__(self, session, port, primary, standby, log, server):
        self.session, self.port = session, port
        self.primary, self.standby, self.log, self.server = primary, standby, log, server

    def call(self, model, method, *args, button=False, **kwargs):
        path = "/web/dataset/call_button" if button else "/web/dataset/call_kw"
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return rpc(self.session, self.port, f"{path}/{model}/{method}", params)

    def traced(self, action):
        """Run `action()`; return its result, the statements each cluster
        logged meanwhile and the cursor mode of each request Odoo logged."""
        offsets = [self.primary.log_size(), self.standby.log_size(), self.log.stat().st_size]
        result = action()
        time.sleep(0.3)  # the servers write their logs line by line
        primary_sql = self.primary.log_since(offsets[0])
        standby_sql = self.standby.log_since(offsets[1])
        with self.log.open() as log:
            log.seek(offsets[2])
            requests_log = [line for line in log if ' HTTP/1.1" ' in line]
        modes = [line.rstrip().rsplit(" ", 1)[-1] for line in requests_log]
        return result, primary_sql, standby_sql, modes


def test_reports_read_the_standby_and_writes_the_primary(served):
    primary_counts = {
        int(step): int(count)
        for step, count in (
            line.split("|")
            for line in harness.psql(
                served.primary.env(),
                DB,
                "SELECT step_id, count(*) FROM sales_funnel_lead_step GROUP BY step_id",
            ).split()
        )
    }
    assert sum(primary_counts.values()) > 24

    # the funnel report and the chart's data, on the standby, with the primary's figures
    funnel, primary_sql, standby_sql, modes = served.traced(
        lambda: served.call("sales.funnel.report", "get_funnel", [])
    )
    assert modes == ["ro"]
    assert REPORT_SQL in standby_sql and REPORT_SQL not in primary_sql
    assert {
        line["step_id"]: line["entered_count"] for line in funnel if line["entered_count"]
    } == primary_counts

    for model, method, args, kwargs in [
        ("sales.funnel.report", "get_funnel_kpis", [[]], {}),
        ("sales.funnel.report", "get_funnel_comparison", [[]], {"groupby": "team_id"}),
        ("sales.funnel.report", "formatted_read_group", [[], ["step_id"], ["entered_count:sum"]], {}),
    ]:
        _result, primary_sql, standby_sql, modes = served.traced(
            lambda model=model, method=method, args=args, kwargs=kwargs: served.call(
                model, method, *args, **kwargs
            )
        )
        assert modes == ["ro"], method
        assert REPORT_SQL in standby_sql and REPORT_SQL not in primary_sql, method

    team_id = int(
        harness.psql(
            served.primary.env(), DB, "SELECT id FROM crm_team WHERE name->>'en_US' = 'Replica team'"
        )
    )

    # the funnel health, its rows and the lists it opens
    rows, primary_sql, standby_sql, modes = served.traced(
        lambda: served.call(
            "sales.funnel.diagnosis", "web_search_read", [], specification={"warning_count": {}}
        )
    )
    assert modes == ["ro"] and rows["length"] > 0
    assert HEALTH_SQL in standby_sql and HEALTH_SQL not in primary_sql
    row_ids = [record["id"] for record in rows["records"]]
    lead_id = int(
        harness.psql(
            served.primary.env(), DB, "SELECT min(id) FROM crm_lead WHERE active AND probability > 0"
        )
    )
    report_ids = served.call("sales.funnel.report", "search", [("lead_id", "=", lead_id)], limit=1)
    # a funnel plan, written on the primary
    plan_id, _primary_sql, _standby_sql, modes = served.traced(
        lambda: served.call("sales.funnel.plan", "create", {"team_id": team_id, "target_amount": 100000})
    )
    assert modes == ["rw"]
    for model, method, args in [
        ("sales.funnel.diagnosis", "action_open_opportunities", [row_ids[:1]]),
        ("sales.funnel.diagnosis", "action_open_stalled", [row_ids[:1]]),
        ("sales.funnel.diagnosis", "action_open_all_won_without_history", []),
        ("crm.team", "action_funnel_health", [[team_id]]),
        ("crm.team", "action_funnel_plans", [[team_id]]),
        ("crm.lead", "action_funnel_history", [[lead_id]]),
        ("sales.funnel.report", "action_open_lead", [report_ids]),
        ("sales.funnel.plan", "action_open_coverage", [[plan_id]]),
    ]:
        action, _primary_sql, _standby_sql, modes = served.traced(
            lambda model=model, method=method, args=args: served.call(model, method, *args, button=True)
        )
        assert modes == ["ro"], method
        assert action["type"] == "ir.actions.act_window", method

    # a stage move writes on the primary: crm_lead and the history
    stage_id = int(
        harness.psql(
            served.primary.env(), DB, "SELECT id FROM crm_stage WHERE is_won ORDER BY sequence LIMIT 1"
        )
    )
    _result, primary_sql, standby_sql, modes = served.traced(
        lambda: served.call("crm.lead", "write", [lead_id], {"stage_id": stage_id})
    )
    assert modes == ["rw"]
    assert 'UPDATE "crm_lead"' in primary_sql
    assert "INSERT INTO sales_funnel_history" in primary_sql.replace('"', "")

    # the export: its choices are written on the primary, its workbook built on the standby
    export = served.call(
        "sales.funnel.export", "create", {"date_from": "2020-01-01", "date_to": "2030-12-31"}
    )
    url = served.call("sales.funnel.export", "action_export", [export], button=True)["url"]
    replayed = f"SELECT count(*) FROM sales_funnel_export WHERE id = {export}"
    wait_until(lambda: harness.psql(served.standby.env(), DB, replayed) == "1")
    download, primary_sql, standby_sql, modes = served.traced(
        lambda: served.session.get(f"http://127.0.0.1:{served.port}{url}", timeout=120)
    )
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert modes == ["ro"]
    assert REPORT_SQL in standby_sql and REPORT_SQL not in primary_sql
    # choices changed after the standby's copy (a later version): read on the primary
    later = url.replace("version=", "version=9")
    download, primary_sql, standby_sql, modes = served.traced(
        lambda: served.session.get(f"http://127.0.0.1:{served.port}{later}", timeout=120)
    )
    assert download.status_code == 200 and modes == ["rw"]
    assert REPORT_SQL in primary_sql and REPORT_SQL not in standby_sql

    # the standby replays the move: the report read there counts the win
    wait_until(lambda: served.call("sales.funnel.report", "get_funnel_kpis", [])["won"] >= 1)

    with served.log.open() as log:
        log = log.read()
    assert "retrying with a read/write cursor" not in log
    # the workers and the websocket (gevent) process ran without an error
    assert "Evented Service (longpolling) running on" in log
    assert not [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]

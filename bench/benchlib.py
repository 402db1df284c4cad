"""Shared pieces of the benchmarks: the harness's PostgreSQL and Odoo, a big
template database built once, timing, results files.

Run the benchmarks with the project's virtualenv after `make run` or
`make test` has set things up, e.g. `.venv/bin/python bench/bench_install.py`.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tools"))

import harness

RESULTS = BENCH / "results"


class Bench:
    def __init__(self, leads):
        self.leads = leads
        self.odoo, self.env = harness.setup()
        self.template = f"sfs_bench_{leads}"

    # -------------------------------------------------------- databases

    def psql(self, db, sql):
        return harness.psql(self.env, db, sql)

    def psql_file(self, db, path, **variables):
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(path)]
        for name, value in variables.items():
            cmd[1:1] = ["-v", f"{name}={value}"]
        result = subprocess.run(cmd, env=os.environ | self.env, check=False, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"psql -f {path.name} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def odoo_bin(self, db, *args, subcommand=None, stdin=None, environ=None):
        cmd = harness.odoo_cmd(
            self.odoo, "-d", db, "--no-http", "--log-level=warn", *args, subcommand=subcommand
        )
        result = subprocess.run(
            cmd, env=os.environ | self.env | (environ or {}), input=stdin, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"odoo-bin failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result.stdout

    def ensure_template(self):
        """crm, seed.py and generate.sql, once; later runs copy it."""
        if harness.db_exists(self.env, self.template):
            return
        building = f"{self.template}_building"
        harness.drop_db(self.env, building)
        print(f"building {self.template}: crm, then {self.leads:,} leads in SQL", flush=True)
        self.odoo_bin(building, "-i", "crm", "--stop-after-init")
        self.odoo_bin(building, subcommand="shell", stdin=(BENCH / "seed.py").read_text())
        started = time.monotonic()
        print(self.psql_file(building, BENCH / "generate.sql", leads=self.leads), flush=True)
        print(f"generated in {time.monotonic() - started:.0f} s", flush=True)
        self.psql(building, "VACUUM ANALYZE")
        self.psql("postgres", f'ALTER DATABASE "{building}" RENAME TO "{self.template}"')

    def copy(self, name):
        harness.drop_db(self.env, name)
        self.psql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def install_addon(self, db):
        """`odoo-bin -i` the addon, then `odoo-bin funnel_build` (the
        history of the existing leads): the seconds of each."""
        install = self.timed(self.odoo_bin, db, "-i", harness.ADDON, "--stop-after-init")
        build = self.timed(self.odoo_bin, db, subcommand="funnel_build")
        return install, build

    # -------------------------------------------------------- timing

    @staticmethod
    def timed(function, *args, **kwargs):
        started = time.perf_counter()
        function(*args, **kwargs)
        return time.perf_counter() - started


@contextmanager
def odoo_server(bench, db, *options):
    """An Odoo server on `db` at a free local port, as a web client sees it
    (`options`: its workers; by default one process, no scheduled actions):
    yields a function `call(model, method, *args, **kwargs)` over JSON-RPC,
    logged in as admin."""
    port = harness.free_port()
    cmd = harness.odoo_cmd(
        bench.odoo, "-d", db, f"--db-filter=^{db}$", "--http-interface=127.0.0.1", f"--http-port={port}",
        *(options or ("--workers=0", "--max-cron-threads=0")), "--log-level=warn",
    )  # fmt: skip
    server = subprocess.Popen(
        cmd, env=os.environ | bench.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()

    def call(model, method, *args, **kwargs):
        payload = {"params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}}
        response = session.post(
            f"{url}/web/dataset/call_kw/{model}/{method}", json=payload, timeout=300
        ).json()
        if "error" in response:
            raise RuntimeError(response["error"])
        return response["result"]

    try:
        for _attempt in range(120):
            try:
                session.get(f"{url}/web/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(1)
        session.post(f"{url}/web/session/authenticate", timeout=60,
                     json={"params": {"db": db, "login": "admin", "password": "admin"}}).raise_for_status()  # fmt: skip
        yield call
    finally:
        server.terminate()
        server.wait(timeout=60)


def median(values):
    return statistics.median(values)


def write_results(name, title, lines, data):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(f"# {title}\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))

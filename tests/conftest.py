"""Fixtures of the harness tests: they drive the real harness, a real Odoo 19
and the PostgreSQL server `make test` prepared (its PG* variables are in the
environment)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import harness


class OdooRunner:
    """Runs odoo-bin against the harness's configuration."""

    def __init__(self):
        self.odoo = harness.odoo_path()
        self.env = {k: os.environ[k] for k in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD") if k in os.environ}

    def run(self, *args, check=True, subcommand=None):
        cmd = harness.odoo_cmd(self.odoo, *args, "--log-level=warn", "--no-http", subcommand=subcommand)
        result = subprocess.run(cmd, env=os.environ | self.env, capture_output=True, text=True, check=False)
        if check and result.returncode:
            raise AssertionError(
                f"odoo-bin {' '.join(args)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
            )
        return result

    def _shell(self, db, code, log_level):
        cmd = harness.odoo_cmd(
            self.odoo, "-d", db, f"--log-level={log_level}", "--no-http", subcommand="shell"
        )
        result = subprocess.run(
            cmd, input=code, env=os.environ | self.env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise AssertionError(f"odoo-bin shell failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
        return result

    def shell(self, db, code):
        """Run Python code in `odoo-bin shell`; return what it printed as JSON lines."""
        stdout = self._shell(db, code, "warn").stdout
        return [json.loads(line[5:]) for line in stdout.splitlines() if line.startswith("JSON ")]

    def shell_log(self, db, code):
        """Run Python code in `odoo-bin shell`; return its log (INFO and up)."""
        result = self._shell(db, code, "info")
        return result.stdout + result.stderr

    def psql(self, db, sql):
        return harness.psql(self.env, db, sql)

    def drop(self, db):
        harness.drop_db(self.env, db)


@pytest.fixture(scope="session")
def odoo():
    return OdooRunner()


@pytest.fixture
def fresh_db(odoo, request):
    """A database name of this test, dropped before and after."""
    name = f"{harness.TEST_DB}_{request.node.name}"[:60].lower()
    odoo.drop(name)
    yield name
    odoo.drop(name)


def wait_for_http(url, process, timeout):
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before answering")
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout} s")

"""The addon's tests also run through pytest-odoo (Odoo's runner stays the
authoritative one: it installs the addon and runs browser tours)."""

import os
import re
import subprocess

from conftest import ROOT, harness


def test_addon_tests_under_pytest_odoo(odoo):
    db = os.environ.get("SFS_TEST_DB", harness.TEST_DB)
    assert harness.addon_installed(odoo.env, db), "make test installs the addon before this test"
    result = subprocess.run(
        [
            str(harness.venv_python()),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--odoo-database={db}",
            f"--odoo-config={harness.ODOO_CONF}",
            "sales_funnel_stages/tests/test_funnel_step.py",
        ],
        cwd=ROOT,
        env=os.environ | odoo.env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed[1]) >= 3, summary

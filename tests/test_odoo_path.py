"""Without a usable ODOO_PATH every command stops at once and creates nothing."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture
def project_copy(tmp_path):
    """The harness in an empty project folder, to see what it creates."""
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "harness.py", tmp_path / "tools")
    shutil.copy(ROOT / "requirements.txt", tmp_path)
    return tmp_path


def run_harness(project, command, odoo_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["ODOO_PATH"] = str(odoo_path)
    return subprocess.run(
        [sys.executable, str(project / "tools" / "harness.py"), command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("command", ["run", "test", "lint", "update", "env"])
def test_missing_odoo_path(project_copy, tmp_path, command):
    result = run_harness(project_copy, command, tmp_path / "no-odoo-here")
    assert result.returncode == 2
    assert "Set ODOO_PATH" in result.stderr
    assert sorted(p.name for p in project_copy.iterdir()) == ["requirements.txt", "tools"]


def test_odoo_of_another_version(project_copy, tmp_path):
    fake = tmp_path / "odoo18"
    (fake / "odoo").mkdir(parents=True)
    (fake / "odoo-bin").write_text("")
    (fake / "odoo" / "release.py").write_text("version_info = (18, 0, 0, FINAL, 0, '')\n")
    result = run_harness(project_copy, "run", fake)
    assert result.returncode == 2
    assert "holds Odoo 18.0, not 19.0" in result.stderr
    assert not (project_copy / ".venv").exists()
    assert not (project_copy / ".local").exists()

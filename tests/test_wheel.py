"""The addon as OCA publishes addons: a wheel built with whool from the
addon's pyproject.toml (its name and version from the manifest), installed
into a fresh virtualenv next to Odoo, and the addon installed from it on a
new database, with an addons path that does not hold the source tree."""

import ast
import os
import re
import subprocess
from pathlib import Path

import harness
from conftest import ROOT


def site_packages(python):
    return subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_wheel_installs_the_addon(odoo, fresh_db, tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [str(harness.venv_python()), "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
         str(ROOT / harness.ADDON)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = dist.glob("*.whl")
    assert wheel.name.startswith("odoo_addon_sales_funnel_stages-19.0.1.3.0"), wheel.name

    # a new virtualenv: Odoo's own dependencies are those of the project's
    # (Odoo is no distribution here), the addon is the wheel's alone
    venv = tmp_path / "venv"
    subprocess.run([str(harness.venv_python()), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(site_packages(python))
    (site / "odoo-dependencies.pth").write_text(f"{site_packages(harness.venv_python())}\n{odoo.odoo}\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    installed = site / "odoo" / "addons" / harness.ADDON
    for part in (
        "__manifest__.py",
        "i18n/zh_CN.po",
        "static/description/index.html",
        "views/crm_team_views.xml",
    ):
        assert (installed / part).is_file(), part

    config = tmp_path / "odoo.conf"
    # the harness's server settings, an addons path without the source tree
    replaced = {
        "addons_path": f"{odoo.odoo / 'addons'},{odoo.odoo / 'odoo' / 'addons'}",
        "data_dir": str(tmp_path / "data"),
    }
    lines = []
    for line in harness.ODOO_CONF.read_text().splitlines():
        key = line.split("=")[0].strip()
        lines.append(f"{key} = {replaced[key]}" if key in replaced else line)
    config.write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [str(python), str(odoo.odoo / "odoo-bin"), "-c", str(config), "-d", fresh_db, "-i", harness.ADDON,
         "--stop-after-init", "--log-level=info", "--no-http"],
        cwd=tmp_path, env=os.environ | odoo.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    assert " ERROR " not in log, log[-4000:]
    assert (
        odoo.psql(fresh_db, f"SELECT state FROM ir_module_module WHERE name = '{harness.ADDON}'")
        == "installed"
    )
    # its data came with it
    assert odoo.psql(fresh_db, "SELECT count(*) FROM sales_funnel_step") == "6"
    # the one folder of the addons path that holds the addon is the wheel's
    # (the project's virtualenv, on it for Odoo's dependencies, holds OCA's
    # crm_stage_probability, not this addon)
    paths = ast.literal_eval(re.search(r"addons paths: _NamespacePath\((\[.*?\])\)", log)[1])
    assert [path for path in paths if (Path(path) / harness.ADDON).is_dir()] == [str(installed.parent)]

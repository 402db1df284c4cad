"""The committed .pot holds exactly the terms the addon has today (else run
`make i18n`), and zh_CN / zh_TW translate them all (checked by the linters)."""

import os
import subprocess

import polib

from conftest import ROOT, harness


def test_pot_is_current(odoo, tmp_path):
    db = os.environ.get("SFS_TEST_DB", harness.TEST_DB)
    exported = tmp_path / "exported.pot"
    cmd = harness.odoo_cmd(odoo.odoo, "-d", db, "-o", str(exported), harness.ADDON, subcommand="i18n export")
    subprocess.run(cmd, env=os.environ | odoo.env, check=True, capture_output=True)
    committed = polib.pofile(str(ROOT / harness.ADDON / "i18n" / f"{harness.ADDON}.pot"))
    fresh = polib.pofile(str(exported))
    missing = {entry.msgid for entry in fresh} - {entry.msgid for entry in committed}
    stale = {entry.msgid for entry in committed} - {entry.msgid for entry in fresh}
    assert not missing and not stale, f"run `make i18n`: missing {sorted(missing)}, stale {sorted(stale)}"


def test_chinese_translations_keep_placeholders():
    for lang in ("zh_CN", "zh_TW"):
        for entry in polib.pofile(str(ROOT / harness.ADDON / "i18n" / f"{lang}.po")):
            for placeholder in ("%(", "%s"):
                assert entry.msgid.count(placeholder) == entry.msgstr.count(placeholder), (lang, entry.msgid)

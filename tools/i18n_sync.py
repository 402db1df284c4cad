"""Merge the exported template into the addon's .po files (run with the
project's virtualenv; `make i18n` calls it after exporting the .pot).

Keeps every existing translation whose msgid is still in the template, adds
the new msgids untranslated, drops the ones the code no longer has, and
copies the template's references so translators see where a term is used.
`--check` lists the untranslated entries of each language and exits 1 if any.
"""

import re
import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parent.parent / "sales_funnel_stages" / "i18n"
LANGUAGES = {"zh_CN": "Chinese (Simplified)", "zh_TW": "Chinese (Traditional)"}


# Terms that read the same in every language: OCA's .po format leaves their
# msgstr empty, which Odoo reads as "use the source text".
NEUTRAL = re.compile(r"^([A-D]|ID|[Mm]\+[Aa]\+[Nn])$")


def merge(pot, lang):
    path = I18N / f"{lang}.po"
    old = {entry.msgid: entry for entry in polib.pofile(str(path))} if path.exists() else {}
    po = polib.POFile()
    po.metadata = dict(pot.metadata, Language=lang, **{"Plural-Forms": "nplurals=1; plural=0;"})
    po.metadata.pop("POT-Creation-Date", None)
    for entry in pot:
        merged = polib.POEntry(
            msgid=entry.msgid,
            msgstr=old[entry.msgid].msgstr if entry.msgid in old and not NEUTRAL.match(entry.msgid) else "",
            occurrences=entry.occurrences,
            comment=entry.comment,
            flags=entry.flags,
        )
        po.append(merged)
    po.sort(key=lambda entry: entry.msgid)  # OCA's po-pretty-format
    path.write_text(str(po))


def untranslated(lang):
    po = polib.pofile(str(I18N / f"{lang}.po"))
    return [entry.msgid for entry in po if not entry.msgstr and not NEUTRAL.match(entry.msgid)]


def main():
    if "--check" in sys.argv:
        missing = {lang: untranslated(lang) for lang in LANGUAGES}
        for lang, msgids in missing.items():
            for msgid in msgids:
                print(f"{lang}: untranslated: {msgid!r}")
        sys.exit(1 if any(missing.values()) else 0)
    pot = polib.pofile(str(I18N / "sales_funnel_stages.pot"))
    for lang in LANGUAGES:
        merge(pot, lang)


if __name__ == "__main__":
    main()

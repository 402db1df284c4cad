#!/usr/bin/env python3
"""Build each addon's README.rst and static/description/index.html (what
Odoo's Apps screen shows) from its readme/*.md fragments (OCA layout).

The fragments use a small Markdown subset (paragraphs, `-` and `1.` lists,
`code`, **bold**, [links](url), and ![pictures](name.png) of
static/description/ on lines of their own); this turns it into
reStructuredText, and that into HTML with docutils. `--check` exits 1 when
either file is not what the fragments give.
"""

import ast
import re
import sys
from pathlib import Path

from docutils.core import publish_parts  # Odoo's dependency, in the project's virtualenv

ROOT = Path(__file__).resolve().parent.parent
ADDONS = sorted(manifest.parent for manifest in ROOT.glob("*/__manifest__.py"))
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def heading(text, char):
    return f"{text}\n{char * len(text)}"


def md_to_rst(text, pictures):
    """`pictures`: where the pictures are, seen from the document."""
    lines = []
    for line in text.strip().splitlines():
        picture = re.match(r"^!\[([^\]]*)\]\(([^)]+)\)$", line)
        if picture:
            lines += [f".. image:: {pictures}{picture[2]}", f"   :alt: {picture[1]}"]
            continue
        title = re.match(r"^(#+) (.*)", line)
        if title:
            lines.append(heading(title[2], "~" if len(title[1]) > 1 else "-"))
            continue
        line = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", line)
        line = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`_", line)
        lines.append(line)
    return "\n".join(lines)


def render(addon, pictures="static/description/"):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    parts = [
        ".. Generated from readme/ by tools/gen_readme.py: edit the fragments.",
        heading(manifest["name"], "="),
        f"Version {manifest['version']} · License {manifest['license']}",
    ]
    for fragment, title in SECTIONS:
        path = addon / "readme" / fragment
        if path.is_file():
            if title:
                parts.append(heading(title, "="))
            parts.append(md_to_rst(path.read_text(), pictures))
    return "\n\n".join(parts) + "\n"


def render_html(addon):
    """The same, as the body of an HTML page. Odoo serves its pictures from
    static/description/ when their path is a bare name."""
    body = publish_parts(
        render(addon, pictures=""), writer_name="html5", settings_overrides={"output_encoding": "unicode"}
    )
    return f"<!DOCTYPE html>\n<html>\n<body>\n{body['html_body']}</body>\n</html>\n"


def main():
    stale = False
    for addon in ADDONS:
        targets = {
            addon / "README.rst": render(addon),
            addon / "static" / "description" / "index.html": render_html(addon),
        }
        for target, text in targets.items():
            if "--check" in sys.argv:
                if not target.is_file() or target.read_text() != text:
                    sys.stderr.write(f"{target.relative_to(ROOT)} is stale: run tools/gen_readme.py\n")
                    stale = True
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    sys.exit(1 if stale else 0)


if __name__ == "__main__":
    main()

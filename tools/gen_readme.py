#!/usr/bin/env python3
"""Build the addon's README.rst from its readme/*.md fragments (OCA layout).

The fragments use a small Markdown subset (paragraphs, `-` and `1.` lists,
`code`, **bold**, [links](url)); this turns it into reStructuredText.
`--check` exits 1 when README.rst is not what the fragments give.
"""

import ast
import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "sales_funnel_stages"
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def heading(text, char):
    return f"{text}\n{char * len(text)}"


def md_to_rst(text):
    lines = []
    for line in text.strip().splitlines():
        title = re.match(r"^(#+) (.*)", line)
        if title:
            lines.append(heading(title[2], "~" if len(title[1]) > 1 else "-"))
            continue
        line = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", line)
        line = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`_", line)
        lines.append(line)
    return "\n".join(lines)


def render():
    manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
    parts = [
        ".. Generated from readme/ by tools/gen_readme.py: edit the fragments.",
        heading(manifest["name"], "="),
        f"Version {manifest['version']} · License {manifest['license']}",
    ]
    for fragment, title in SECTIONS:
        path = ADDON / "readme" / fragment
        if path.is_file():
            if title:
                parts.append(heading(title, "="))
            parts.append(md_to_rst(path.read_text()))
    return "\n\n".join(parts) + "\n"


def main():
    target = ADDON / "README.rst"
    text = render()
    if "--check" in sys.argv:
        if not target.is_file() or target.read_text() != text:
            sys.stderr.write("sales_funnel_stages/README.rst is stale: run tools/gen_readme.py\n")
            sys.exit(1)
        return
    target.write_text(text)


if __name__ == "__main__":
    main()

"""docs/administration.md shows the access matrix that the addon's
`test_access_matrix` checks cell by cell (else regenerate the section with
`python sales_funnel_stages/tests/access_matrix.py`)."""

import importlib.util

from conftest import ROOT

BEGIN = "<!-- access matrix: begin -->\n"
END = "<!-- access matrix: end -->\n"


def test_docs_show_the_tested_matrix():
    spec = importlib.util.spec_from_file_location(
        "access_matrix", ROOT / "sales_funnel_stages" / "tests" / "access_matrix.py"
    )
    matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(matrix)
    doc = (ROOT / "docs" / "administration.md").read_text()
    shown = doc[doc.index(BEGIN) + len(BEGIN) : doc.index(END)]
    assert shown == matrix.markdown()

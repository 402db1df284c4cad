"""Who may do what with the funnel: the table that `test_access_matrix`
checks cell by cell, and that docs/administration.md shows ("Who sees
what"). Plain data, importable without Odoo.

Each row: (object, action, one letter per role in `ROLES` order): Y
allowed, N refused. An allowed read returns exactly the rows that role may
see (the test says which, per object).
"""

import sys

ROLES = [
    ("own", "Salesperson, own documents"),
    ("all", "Salesperson, all documents"),
    ("leader", "Team leader (all documents)"),
    ("admin", "Sales administrator"),
    ("other_company", "All documents, other company"),
    ("portal", "Portal user"),
    ("public", "Public (anonymous)"),
]

# fmt: off
CELLS = [
    # object                          action                            own/all/leader/admin/other/portal/public
    ("Funnel steps",                  "read",                           "YYYYYNN"),
    ("Funnel steps",                  "write",                          "NNNYNNN"),
    ("Funnel steps",                  "create",                         "NNNNNNN"),
    ("Funnel steps",                  "unlink",                         "NNNNNNN"),
    ("Stage weights and gates",       "read",                           "YYYYYNN"),
    ("Stage weights and gates",       "write",                          "NNNYNNN"),
    ("Company thresholds",            "write",                          "NNNNNNN"),
    ("Funnel settings",               "write",                          "NNNNNNN"),
    ("Leads' funnel fields",          "read",                           "YYYYYNN"),
    ("Leads' funnel fields",          "write (a company A lead)",       "YYYYNNN"),
    ("Stage history",                 "read",                           "YYYYYNN"),
    ("Stage history",                 "create",                         "NNNNNNN"),
    ("Stage history",                 "write",                          "NNNNNNN"),
    ("Stage history",                 "unlink",                         "NNNNNNN"),
    ("Per-lead summary",              "read",                           "NNNNNNN"),
    ("Funnel report",                 "search_read",                    "YYYYYNN"),
    ("Funnel report",                 "formatted_read_group",           "YYYYYNN"),
    ("Funnel report",                 "web_read_group",                 "YYYYYNN"),
    ("Funnel report",                 "get_funnel",                     "YYYYYNN"),
    ("Funnel report",                 "get_funnel_kpis",                "YYYYYNN"),
    ("Funnel report",                 "write",                          "NNNNNNN"),
    ("Funnel chart drill-down",       "call",                           "YYYYYNN"),
    ("Export wizard",                 "create and export",              "NYYYYNN"),
    ("Export wizard",                 "read another user's workbook",   "NNNNNNN"),
    ("Workbook download route",       "another user's workbook",        "NNNNNNN"),
    ("Weekly mail",                   "content, as a team's leader",    "YYYYYNN"),
    ("Funnel plans",                  "read",                           "NYYYYNN"),
    ("Funnel plans",                  "write",                          "NNNYNNN"),
    ("Funnel plans",                  "create",                         "NNNYNNN"),
    ("Funnel plans",                  "unlink",                         "NNNYNNN"),
    ("Plan lines",                    "read",                           "NYYYYNN"),
    ("Plan lines",                    "write",                          "NNNYNNN"),
    ("Plan lines",                    "create",                         "NNNYNNN"),
    ("Plan lines",                    "unlink",                         "NNNYNNN"),
    ("Forecast by month",             "read",                           "YYYYYNN"),
    ("Forecast by month",             "write",                          "NNNNNNN"),
    ("Measured weights",              "read",                           "NYYYYNN"),
    ("Measured weights",              "adopt for a team",               "NNNYNNN"),
    ("Funnel health",                 "read",                           "YYYYYNN"),
    ("Funnel health",                 "deals won without history",      "NNNYNNN"),
    ("Buying roles",                  "read",                           "YYYYYNN"),
    ("Buying roles",                  "create (a company A lead)",      "YYYYNNN"),
    ("Buying roles",                  "write (a company A lead)",       "YYYYNNN"),
    ("Buying roles",                  "unlink (a company A lead)",      "YYYYNNN"),
    ("Partner's best tier",           "read",                           "YYYYYNN"),
    ("Partner's best tier",           "search",                         "YYYYYNN"),
]
# fmt: on

# What an allowed read returns, per role (the docs' notes under the table).
ROWS = {
    "own": "their own and unassigned opportunities; funnel health: their own row",
    "all": "every opportunity of their companies",
    "leader": "every opportunity of their companies",
    "admin": "every opportunity of their companies",
    "other_company": "the opportunities of their company, a lead moved there included",
}


def expectations():
    """{(object, action, role): allowed}"""
    roles = [role for role, _label in ROLES]
    return {
        (obj, action, role): letter == "Y"
        for obj, action, letters in CELLS
        for role, letter in zip(roles, letters, strict=True)
    }


def markdown():
    """The table as docs/administration.md shows it."""
    header = ["Object", "Action", *(label for _role, label in ROLES)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for obj, action, letters in CELLS:
        marks = ("✓" if letter == "Y" else "✗" for letter in letters)
        lines.append("| " + " | ".join([obj, action, *marks]) + " |")
    lines.append("")
    labels = dict(ROLES)
    lines += [f"- {labels[role]}: {rows}." for role, rows in ROWS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())

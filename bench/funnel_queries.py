"""Run in `odoo-bin shell` by bench_funnel.py: time stock crm read_groups
and the funnel report in-process, and EXPLAIN the report's SQL.

Reads its settings from the environment: BENCH_RUNS, BENCH_SINCE.
"""

import json
import os
import statistics
import time

from odoo.tools import SQL

env = env  # noqa: F821,PLW0127 (odoo-bin shell provides env)

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SINCE = os.environ["BENCH_SINCE"]
YEAR = [("date", ">=", SINCE)]
Lead = env["crm.lead"]
Report = env["sales.funnel.report"]

CASES = {
    "stock: formatted_read_group crm.lead by stage": lambda: Lead.formatted_read_group(
        [], ["stage_id"], ["__count", "expected_revenue:sum"]
    ),
    "stock: formatted_read_group crm.lead by salesperson x stage": lambda: Lead.formatted_read_group(
        [], ["user_id", "stage_id"], ["__count", "expected_revenue:sum"]
    ),
    "stock: pipeline pivot (month x stage, expected revenue)": lambda: Lead.formatted_read_group(
        [("type", "=", "opportunity")], ["create_date:month", "stage_id"], ["__count", "expected_revenue:sum"]
    ),
    "stock: plain SQL count by stage": lambda: env.cr.execute(
        "SELECT stage_id, count(*) FROM crm_lead GROUP BY stage_id"
    ),
    "funnel report, one year, by step": lambda: Report.get_funnel(YEAR),
    "funnel report, one year, by salesperson x step": lambda: Report.get_funnel(YEAR, groupby=["user_id"]),
    # live over every open opportunity (no period): the manager's health view
    "funnel health, every team and salesperson": lambda: env["sales.funnel.diagnosis"].search_read(
        [], ["team_id", "user_id", "open_count", "weighted_revenue", "stalled_count", "disqualify_count"]
    ),
}


def median_ms(function):
    function()  # warm caches
    timings = []
    for _run in range(RUNS):
        env.invalidate_all()
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def explain(function):
    """EXPLAIN ANALYZE the last report query `function` runs."""
    statements = []
    execute = env.cr.execute

    def recording(query, params=None, log_exceptions=True):
        statements.append((query, params))
        return execute(query, params, log_exceptions)

    env.cr.execute = recording
    try:
        function()
    finally:
        env.cr.execute = execute
    query, params = next(
        (query, params) for query, params in reversed(statements) if "sales_funnel_report" in str(query)
    )
    if isinstance(query, SQL):
        env.cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query))
    else:
        env.cr.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params)
    return "\n".join(row[0] for row in env.cr.fetchall())


results = {name: median_ms(case) for name, case in CASES.items()}
rows = sum(row["entered_count"] for row in Report.get_funnel(YEAR))
env.cr.execute("SELECT count(*) FROM sales_funnel_history")
history = env.cr.fetchone()[0]
env.cr.execute("SELECT count(*) FROM sales_funnel_lead_step")
summary = env.cr.fetchone()[0]
plans = {
    "by step": explain(lambda: Report.get_funnel(YEAR)),
}
print("JSON " + json.dumps({"in_process_ms": results, "year_rows": rows, "history_rows": history,
                            "summary_rows": summary, "plans": plans}))  # fmt: skip

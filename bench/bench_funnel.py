"""Funnel analysis against stock crm on a database of a million leads and
about 3.5 million stage changes (bench/generate.sql), in one run:

- in-process (`odoo-bin shell`): stock `formatted_read_group` of crm.lead by
  stage and by salesperson x stage, the pipeline pivot, a plain SQL count;
  then the funnel report for one year by step and by salesperson x step;
- the same through the web client's JSON-RPC on a running server;
- the install and the history build, for the record (their targets are
  bench_install.py's).

Targets (ratios): report by step <= 2x stock by stage; by salesperson x step
<= 1.5x stock by salesperson x stage.

    .venv/bin/python bench/bench_funnel.py [--leads N] [--runs R]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import time
from datetime import datetime, timedelta

from benchlib import BENCH, Bench, harness, odoo_server, write_results

RPC_CASES = {
    "stock: formatted_read_group crm.lead by stage": (
        "crm.lead", "formatted_read_group", [[], ["stage_id"], ["__count", "expected_revenue:sum"]], {}),
    "stock: formatted_read_group crm.lead by salesperson x stage": (
        "crm.lead", "formatted_read_group", [[], ["user_id", "stage_id"], ["__count", "expected_revenue:sum"]], {}),
    "funnel report, one year, by step": ("sales.funnel.report", "get_funnel", [], {"domain": "YEAR"}),
    "funnel report, one year, by salesperson x step": (
        "sales.funnel.report", "get_funnel", [], {"domain": "YEAR", "groupby": ["user_id"]}),
}  # fmt: skip


def rpc_timings(bench, db, runs, since):
    with odoo_server(bench, db) as call:
        results = {}
        for name, (model, method, args, kwargs) in RPC_CASES.items():
            kwargs = {
                key: [["date", ">=", since]] if value == "YEAR" else value for key, value in kwargs.items()
            }
            timings = []
            for _run in range(runs + 1):
                started = time.perf_counter()
                call(model, method, *args, **kwargs)
                timings.append((time.perf_counter() - started) * 1000)
            results[name] = statistics.median(timings[1:])
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="query the database of the last run, no install")
    parser.add_argument("--db", default="sfs_bench_funnel", help="the database to install in and query")
    parser.add_argument("--churn", type=int, default=0, help="live stage moves made before measuring")
    args = parser.parse_args()
    bench = Bench(args.leads)
    bench.ensure_template()
    db = args.db
    install_s, build_s = (float("nan"), float("nan")) if args.reuse else bench.install_addon(bench.copy(db))
    churn = ""
    if args.churn:
        churned = bench.odoo_bin(
            db,
            subcommand="shell",
            stdin=(BENCH / "churn.py").read_text(),
            environ={"BENCH_CHURN": str(args.churn)},
        )
        churn = next(line for line in churned.splitlines() if line.startswith("CHURN "))[len("CHURN ") :]
    # steady state, as autovacuum leaves it: the install's UPDATE of crm_lead
    # leaves a dead version of every lead, which would slow the stock queries
    bench.psql(db, "VACUUM ANALYZE crm_lead, sales_funnel_history, sales_funnel_lead_step")
    since = (datetime.now() - timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S")
    env = os.environ | bench.env | {"BENCH_RUNS": str(args.runs), "BENCH_SINCE": since}
    cmd = harness.odoo_cmd(bench.odoo, "-d", db, "--no-http", "--log-level=warn", subcommand="shell")
    shell = subprocess.run(cmd, input=(BENCH / "funnel_queries.py").read_text(), env=env,
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    measured = json.loads(next(line[5:] for line in shell.splitlines() if line.startswith("JSON ")))
    rpc = rpc_timings(bench, db, args.runs, since)
    local = measured["in_process_ms"]

    def ratio(numbers, ours, stock):
        return numbers[ours] / numbers[stock]

    by_step = ("funnel report, one year, by step", "stock: formatted_read_group crm.lead by stage")
    by_user = ("funnel report, one year, by salesperson x step",
               "stock: formatted_read_group crm.lead by salesperson x stage")  # fmt: skip
    lines = [
        (
            f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores: {args.leads:,} leads, "
            f"{measured['history_rows']:,} history rows, {measured['summary_rows']:,} per-lead step rows; "
            f"medians of {args.runs} runs. The year holds {measured['year_rows']:,} step entries."
            + (f" Measured after {churn} (live stage moves through the ORM), then VACUUM." if churn else "")
        ),
        "",
        "| query | in-process ms | JSON-RPC ms |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {local[name]:.0f} | {rpc.get(name, float('nan')):.0f} |" for name in local),
        "",
        (
            f"- report by step / stock by stage: **{ratio(local, *by_step):.2f}** in-process, "
            f"**{ratio(rpc, *by_step):.2f}** over RPC (target <= 2)"
        ),
        (
            f"- report by salesperson x step / stock by salesperson x stage: **{ratio(local, *by_user):.2f}** "
            f"in-process, **{ratio(rpc, *by_user):.2f}** over RPC (target <= 1.5)"
        ),
        "",
        (
            f"Install on that database: {install_s:.0f} s, then the history build (`odoo-bin funnel_build`): "
            f"{build_s:.0f} s; both are measured against their targets by bench_install.py (results/install.md)."
            if not math.isnan(build_s)  # installed in this run
            else "The install on that database is measured by bench_install.py (results/install.md)."
        ),
        "",
        "EXPLAIN ANALYZE of the report by step:",
        "",
        "```",
        measured["plans"]["by step"],
        "```",
    ]
    write_results(
        "funnel", "Funnel analysis on a million leads", lines,
        {"in_process_ms": local, "rpc_ms": rpc, "install_s": install_s, "build_s": build_s,
         "rows": {k: measured[k] for k in ("year_rows", "history_rows", "summary_rows")}},
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""The funnel workbook export against bare xlsxwriter, on a database of
30,000 leads (bench/generate.sql) and the period holding its first 100,000
stage changes.

- time: the Transitions sheet of the export (fetched in batches from SQL,
  written in constant-memory mode) against xlsxwriter alone writing the same
  cells, already in memory; target <= 1.3x;
- memory: growth of the resident set of the process running the whole export
  (every sheet, the file stored on the wizard); target <= 100 MB.

The measures run in an `odoo-bin shell` (bench/export_run.py), the two writers
in turns so that both see the same load of the machine.

    .venv/bin/python bench/bench_export.py [--leads N] [--transitions N] [--runs R] [--fresh]
"""

import argparse
import json
import os
import subprocess
import time

from benchlib import BENCH, Bench, harness, write_results

DB = "sfs_bench_export"


def prepare(bench, fresh):
    """The volume once (template), the addon on a copy of it."""
    bench.template = "sfs_bench_export_template"
    bench.ensure_template()
    if fresh or not harness.addon_installed(bench.env, DB):
        bench.copy(DB)
        bench.odoo_bin(DB, "-i", harness.ADDON, "--stop-after-init")
    else:
        bench.odoo_bin(DB, "-u", harness.ADDON, "--stop-after-init")


def period(bench, transitions):
    """The days from the first stage change to the one of the N-th."""
    first, last = bench.psql(
        DB,
        "SELECT (SELECT min(date)::date FROM sales_funnel_history),"
        f" (SELECT date::date FROM sales_funnel_history ORDER BY date OFFSET {transitions - 1} LIMIT 1)",
    ).split("|")
    return first, last


def measure(bench, runs, date_from, date_to):
    env = (
        os.environ
        | bench.env
        | {"BENCH_RUNS": str(runs), "BENCH_DATE_FROM": date_from, "BENCH_DATE_TO": date_to}
    )
    cmd = harness.odoo_cmd(bench.odoo, "-d", DB, "--no-http", "--log-level=warn", subcommand="shell")
    output = subprocess.run(
        cmd, input=(BENCH / "export_run.py").read_text(), env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(next(line[5:] for line in output.splitlines() if line.startswith("JSON ")))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=30_000)
    parser.add_argument("--transitions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="install the addon on a new copy")
    args = parser.parse_args()
    bench = Bench(args.leads)
    prepare(bench, args.fresh)
    date_from, date_to = period(bench, args.transitions)
    history = int(bench.psql(DB, "SELECT count(*) FROM sales_funnel_history"))
    ours = measure(bench, args.runs, date_from, date_to)
    medians = ours["medians"]
    sheet, alone, ratio = medians["transitions_s"], medians["bare_s"], medians["ratios"]
    growth = ours["export_rss_growth_mb"]
    lines = [
        (
            f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores: {args.leads:,} leads, "
            f"{history:,} stage changes in all; the period {date_from} to {date_to} holds "
            f"{ours['transitions']:,} of them (12 columns each). Medians of {args.runs} runs in an "
            "`odoo-bin shell`, as admin (Sales administrator, record rules applied); the two writers "
            "in turns."
        ),
        "",
        "| what | seconds |",
        "| --- | ---: |",
        f"| Transitions sheet of the export (SQL in batches of 5,000 + xlsxwriter) | {sheet:.2f} |",
        f"| bare xlsxwriter writing the same cells (already in memory), constant memory | {alone:.2f} |",
        (f"| whole workbook (every sheet, as the download route builds it) | {medians['export_s']:.2f} |"),
        "",
        (
            f"Transitions sheet / bare xlsxwriter = **{ratio:.2f}** (median of the runs' ratios, which went "
            f"from {min(ours['ratios']):.2f} to {max(ours['ratios']):.2f}; target ≤ 1.3)."
        ),
        "",
        (
            f"Growth of the resident memory of the process during its first whole export = **{growth:.0f} MB** "
            f"(target ≤ 100 MB); the workbook is {ours['export_file_mb']:.1f} MB."
        ),
    ]
    write_results(
        "export", "Funnel workbook export: 100,000 transitions", lines,
        {"leads": args.leads, "history_rows": history, "period": [date_from, date_to], "measured": ours,
         "ratio": ratio, "rss_growth_mb": growth},
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""Install cost of the addon on a database of a million leads, against one
full-table UPDATE of crm_lead measured in the same run.

The addon adds stored fields to crm_lead. Target: installing it costs at most
1.2x one `ADD COLUMN` + `UPDATE` of every row (each such pass rewrites every
row and its indexes). Install cost = `odoo-bin -i sales_funnel_stages`
minus the same `odoo-bin` run that installs nothing (registry loading).

    .venv/bin/python bench/bench_install.py [--leads N] [--runs R]
"""

import argparse
import os
import platform
import time

from benchlib import Bench, median, write_results


def full_table_update(bench, db):
    bench.psql(
        db,
        "BEGIN; ALTER TABLE crm_lead ADD COLUMN bench_probe numeric;"
        " UPDATE crm_lead SET bench_probe = expected_revenue * 0.5; ROLLBACK;",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench = Bench(args.leads)
    bench.ensure_template()
    updates, loads, installs = [], [], []
    for run in range(1, args.runs + 1):
        # fresh copies: an UPDATE leaves dead rows that would make the next pass cheaper
        db = bench.copy("sfs_bench_update")
        updates.append(bench.timed(full_table_update, bench, db))
        db = bench.copy("sfs_bench_install")
        loads.append(bench.timed(bench.odoo_bin, db, "--stop-after-init"))
        installs.append(bench.timed(bench.odoo_bin, db, "-i", "sales_funnel_stages", "--stop-after-init"))
        print(f"run {run}: update {updates[-1]:.1f} s, load {loads[-1]:.1f} s, install {installs[-1]:.1f} s")
    checks = bench.psql(
        "sfs_bench_install",
        "SELECT count(*), count(weighted_revenue), count(priority_tier),"
        " (SELECT count(*) FROM crm_stage WHERE funnel_step_id IS NULL) FROM crm_lead",
    )
    update, load, install = median(updates), median(loads), median(installs)
    cost = install - load
    lines = [
        (
            f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({platform.machine()}), "
            f"{args.leads:,} leads, median of {args.runs} runs on fresh copies of the same database."
        ),
        "",
        "| what | seconds |",
        "| --- | ---: |",
        f"| one full-table `ADD COLUMN` + `UPDATE` of crm_lead | {update:.1f} |",
        f"| `odoo-bin --stop-after-init` (registry load, nothing installed) | {load:.1f} |",
        f"| `odoo-bin -i sales_funnel_stages --stop-after-init` | {install:.1f} |",
        f"| install cost (install - load) | {cost:.1f} |",
        "",
        f"Install cost / one full-table UPDATE = **{cost / update:.2f}** (target ≤ 1.2).",
        "",
        "After install (leads, with weighted revenue, with tier, unmapped stages): "
        + checks.replace("|", ", "),
    ]
    write_results(
        "install",
        "Install on a database of a million leads",
        lines,
        {"leads": args.leads, "runs": args.runs, "update_s": updates, "load_s": loads, "install_s": installs,
         "ratio": cost / update},
    )  # fmt: skip


if __name__ == "__main__":
    main()

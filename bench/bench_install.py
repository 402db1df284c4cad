"""Install cost of the addon on a database of a million leads and 3.5
million tracked stage changes, against one full-table UPDATE of crm_lead
measured in the same run.

- The funnel model adds stored fields to crm_lead. Target: it costs at most
  1.2x one `ADD COLUMN` + `UPDATE` of every row (each such pass rewrites every
  row and its indexes). Its cost = `odoo-bin -i sales_funnel_stages` minus
  the same `odoo-bin` run that installs nothing (registry loading), minus the
  stage history's phases below.
- The stage history is rebuilt from crm's tracking into its own tables
  (history, per-lead summary). Target: at most 15 s.

    .venv/bin/python bench/bench_install.py [--leads N] [--runs R]
"""

import argparse
import os
import platform
import time

from benchlib import HISTORY_PHASES, Bench, median, write_results


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
    updates, loads, installs, histories = [], [], [], []
    for run in range(1, args.runs + 1):
        # fresh copies: an UPDATE leaves dead rows that would make the next pass cheaper
        db = bench.copy("sfs_bench_update")
        updates.append(bench.timed(full_table_update, bench, db))
        db = bench.copy("sfs_bench_install")
        loads.append(bench.timed(bench.odoo_bin, db, "--stop-after-init"))
        seconds, phases = bench.install_addon(db)
        installs.append(seconds)
        histories.append(sum(phases.get(name, 0.0) for name in HISTORY_PHASES))
        print(
            f"run {run}: update {updates[-1]:.1f} s, load {loads[-1]:.1f} s, install {installs[-1]:.1f} s "
            f"of which stage history {histories[-1]:.1f} s: {phases}",
            flush=True,
        )
    checks = bench.psql(
        "sfs_bench_install",
        "SELECT count(*), count(weighted_revenue), count(priority_tier),"
        " (SELECT count(*) FROM crm_stage WHERE funnel_step_id IS NULL) FROM crm_lead",
    )
    update, load, install, history = (median(values) for values in (updates, loads, installs, histories))
    model = install - load - history
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
        f"| of which the stage history (backfill and per-lead summary) | {history:.1f} |",
        f"| funnel model (install - load - stage history) | {model:.1f} |",
        "",
        f"Funnel model / one full-table UPDATE = **{model / update:.2f}** (target ≤ 1.2).",
        "",
        f"Stage history backfill and per-lead summary: **{history:.1f} s** (target ≤ 15 s).",
        "",
        "After install (leads, with weighted revenue, with tier, unmapped stages): "
        + checks.replace("|", ", "),
    ]
    write_results(
        "install",
        "Install on a database of a million leads",
        lines,
        {"leads": args.leads, "runs": args.runs, "update_s": updates, "load_s": loads, "install_s": installs,
         "history_s": histories, "ratio": model / update},
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""A week's funnel workbook on a million leads (issue: a manager's weekly
export must stay interactive), on a database where the addon is installed
and its history built (bench_funnel.py's or bench_write.py's).

The whole workbook (every sheet, built as its download route builds it)
of last week, as admin (a Sales administrator, record rules
applied), medians of R runs; then one run profiled, the seconds of each
sheet and of the report reads under them. Target: <= 10 s.

    .venv/bin/python bench/bench_workbook_week.py --db DB [--runs R]
"""

import argparse
import json

from benchlib import Bench, write_results

RUN = """
import cProfile, io, json, pstats, statistics, time
env = env(user=env.ref("base.user_admin").id, su=False, context={{"lang": "en_US", "tz": "UTC"}})
wizard = env["sales.funnel.export"].create({{"period": "last_week"}})
wizard.flush_recordset()
env.cr.commit()
timings = []
for _run in range({runs}):
    started = time.perf_counter()
    workbook = wizard._in_export_companies()._workbook()
    timings.append(time.perf_counter() - started)
    env.cr.rollback()
profile = cProfile.Profile()
profile.enable()
wizard._in_export_companies()._workbook()
profile.disable()
stats = pstats.Stats(profile)
parts = {{}}
for (path, _line, name), (_calls, _prim, _tottime, cumtime, _callers) in stats.stats.items():
    if path.endswith("sales_funnel_workbook.py") and name.endswith("_sheet"):
        parts[name] = parts.get(name, 0.0) + cumtime
    if name in ("get_funnel", "get_funnel_kpis", "get_funnel_comparison"):
        parts[name] = parts.get(name, 0.0) + cumtime
print("JSON " + json.dumps({{
    "period": [str(wizard.date_from), str(wizard.date_to)], "timings": timings,
    "median": statistics.median(timings), "size_mb": len(workbook) / 2**20, "parts": parts,
}}))
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--leads", type=int, default=1_000_000, help="the template's size (bench_funnel.py's)"
    )
    parser.add_argument("--db", default="sfs_bench_funnel")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench = Bench(args.leads)
    output = bench.odoo_bin(args.db, subcommand="shell", stdin=RUN.format(runs=args.runs))
    result = json.loads(next(line[5:] for line in output.splitlines() if line.startswith("JSON ")))
    leads = int(bench.psql(args.db, "SELECT count(*) FROM crm_lead"))
    history = int(bench.psql(args.db, "SELECT count(*) FROM sales_funnel_history"))
    moves = int(
        bench.psql(
            args.db,
            "SELECT count(*) FROM sales_funnel_history"
            f" WHERE date >= '{result['period'][0]}' AND date < '{result['period'][1]}'::date + 1",
        )
    )
    lines = [
        (
            f"{leads:,} leads, {history:,} history rows; last week ({result['period'][0]} to "
            f"{result['period'][1]}) holds {moves:,} of them. Whole export as admin, median of {args.runs} "
            f"runs: **{result['median']:.1f} s** (target <= 10 s; runs "
            f"{', '.join(f'{t:.1f}' for t in result['timings'])}); the workbook is {result['size_mb']:.1f} MB."
        ),
        "",
        "Where one run's time goes (cProfile, cumulative seconds; the report reads are inside the sheets):",
        "",
        "| part | s |",
        "| --- | ---: |",
        *(
            f"| `{name}` | {seconds:.2f} |"
            for name, seconds in sorted(result["parts"].items(), key=lambda p: -p[1])
        ),
    ]
    write_results("workbook_week", "A week's funnel workbook on a million leads", lines, result)


if __name__ == "__main__":
    main()

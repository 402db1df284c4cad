"""The write path against stock crm, on the same database of a million leads
(bench/generate.sql): one stage change of one lead, written and committed as
a kanban drag is, timed on a copy without the addon and on a copy with it.

Rounds of DRAGS opportunities each, moved one step forward or back in their
team's pipeline, each drag its own transaction; the figure is the median of
the rounds' medians, and the ratio addon / stock. Target: <= 1.2.

    .venv/bin/python bench/bench_write.py [--leads N] [--rounds R] [--drags D]
"""

import argparse
import json

from benchlib import Bench, write_results

# Run inside `odoo-bin shell` (the `env` of the database); prints one JSON line.
DRAG = """
import json, time, statistics
env = env(context=dict(env.context, tracking_disable=False))
Lead = env["crm.lead"]
leads = Lead.search([("type", "=", "opportunity"), ("won_status", "=", "pending"), ("active", "=", True)],
                    order="id", limit={drags})
pipelines = {{}}
def pipeline(team):
    if team.id not in pipelines:
        pipelines[team.id] = env["crm.stage"].search(
            ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids), ("is_won", "=", False)],
            order="sequence, id")
    return pipelines[team.id]
env.cr.commit()
medians = []
for round_ in range({rounds} + 1):
    timings = []
    for lead in leads:
        stages = pipeline(lead.team_id)
        position = list(stages).index(lead.stage_id) if lead.stage_id in stages else 0
        forward = position + 1 < len(stages) and round_ % 2 == 0
        target = stages[position + 1] if forward else stages[max(position - 1, 0)]
        if target == lead.stage_id:
            target = stages[(position + 1) % len(stages)]
        started = time.perf_counter()
        lead.write({{"stage_id": target.id}})
        env.cr.commit()
        timings.append((time.perf_counter() - started) * 1000)
    if round_:  # the first round warms the caches
        medians.append(statistics.median(timings))
print("RESULT " + json.dumps({{"medians": medians, "median": statistics.median(medians)}}))
"""


def drags(bench, db, rounds, count):
    output = bench.odoo_bin(db, subcommand="shell", stdin=DRAG.format(rounds=rounds, drags=count))
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--drags", type=int, default=100)
    args = parser.parse_args()
    bench = Bench(args.leads)
    bench.ensure_template()
    stock = bench.copy(f"{bench.template}_write_stock")
    addon = bench.copy(f"{bench.template}_write_addon")
    install_seconds, _phases = bench.install_addon(addon)
    bench.psql(addon, "VACUUM ANALYZE")
    results = {"stock": drags(bench, stock, args.rounds, args.drags)}
    results["addon"] = drags(bench, addon, args.rounds, args.drags)
    ratio = results["addon"]["median"] / results["stock"]["median"]
    lines = [
        f"{args.leads:,} leads; {args.rounds} rounds of {args.drags} drags (write + commit of one lead's stage).",
        "",
        "| database | median of round medians (ms) |",
        "| --- | ---: |",
        f"| stock crm | {results['stock']['median']:.1f} |",
        f"| with the addon | {results['addon']['median']:.1f} |",
        "",
        f"Ratio addon / stock: **{ratio:.2f}** (target 1.2). Addon installed in {install_seconds:.0f} s.",
    ]
    write_results("write", "One stage change, against stock crm", lines, dict(results, ratio=ratio))


if __name__ == "__main__":
    main()

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
import statistics
import time

from benchlib import Bench, odoo_server, write_results

# Run inside `odoo-bin shell` of the stock database, which opens the addon's
# database beside it (each database has its own registry): drags alternate
# between the two, stock first in even rounds, so that both meet the same
# load of the machine. Prints one JSON line.
DRAG = """
import json, time, statistics
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

def setup(cr):
    env = api.Environment(cr, SUPERUSER_ID, {{"tracking_disable": False}})
    leads = env["crm.lead"].search(
        [("type", "=", "opportunity"), ("won_status", "=", "pending"), ("active", "=", True)],
        order="id", limit={drags})
    pipelines = {{}}
    for team in {{lead.team_id for lead in leads}}:
        pipelines[team.id] = env["crm.stage"].search(
            ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids), ("is_won", "=", False)],
            order="sequence, id")
    cr.commit()
    return env, leads, pipelines

def drag(env, lead, pipelines, round_):
    stages = pipelines[lead.team_id.id]
    position = list(stages).index(lead.stage_id) if lead.stage_id in stages else 0
    target = stages[(position + (1 if round_ % 2 == 0 else -1)) % len(stages)]
    started = time.perf_counter()
    lead.write({{"stage_id": target.id}})
    env.cr.commit()
    return (time.perf_counter() - started) * 1000

with Registry("{addon}").cursor() as addon_cr:
    sides = {{"stock": setup(env.cr), "addon": setup(addon_cr)}}
    medians = {{"stock": [], "addon": []}}
    for round_ in range({rounds} + 1):
        timings = {{"stock": [], "addon": []}}
        order = ["stock", "addon"] if round_ % 2 == 0 else ["addon", "stock"]
        for index in range({drags}):
            for side in order:
                side_env, leads, pipelines = sides[side]
                if index < len(leads):
                    timings[side].append(drag(side_env, leads[index], pipelines, round_))
        if round_:  # the first round warms the caches
            for side in medians:
                medians[side].append(statistics.median(timings[side]))
print("RESULT " + json.dumps({{side: {{"medians": values, "median": statistics.median(values)}}
                               for side, values in medians.items()}}))
"""


def drags(bench, stock, addon, rounds, count):
    output = bench.odoo_bin(
        stock, subcommand="shell", stdin=DRAG.format(rounds=rounds, drags=count, addon=addon)
    )
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


# What the kanban view reads back after a drag (`web_save`): a card's fields.
CARD = {
    "stage_id": {"fields": {"display_name": {}}},
    "name": {},
    "expected_revenue": {},
    "probability": {},
    "user_id": {"fields": {"display_name": {}}},
}


def rpc_drags(bench, stock, addon, rounds, count):
    """The same drags as the web client makes them: `web_save` over JSON-RPC
    on a running server per database, one request (one transaction) each,
    alternating between the two as in-process."""
    with odoo_server(bench, stock) as stock_call, odoo_server(bench, addon) as addon_call:
        calls = {"stock": stock_call, "addon": addon_call}
        leads, pipelines = {}, {}
        for side, call in calls.items():
            leads[side] = call(
                "crm.lead", "search_read",
                [("type", "=", "opportunity"), ("won_status", "=", "pending"), ("active", "=", True)],
                ["stage_id", "team_id"], order="id desc", limit=count,
            )  # fmt: skip
            for lead in leads[side]:
                team = lead["team_id"] and lead["team_id"][0]
                if (side, team) not in pipelines:
                    pipelines[side, team] = call(
                        "crm.stage", "search",
                        ["|", ("team_ids", "=", False), ("team_ids", "in", [team] if team else []),
                         ("is_won", "=", False)],
                        order="sequence, id",
                    )  # fmt: skip
        medians = {"stock": [], "addon": []}
        for round_ in range(rounds + 1):
            timings = {"stock": [], "addon": []}
            order = ["stock", "addon"] if round_ % 2 == 0 else ["addon", "stock"]
            for index in range(count):
                for side in order:
                    if index >= len(leads[side]):
                        continue
                    lead = leads[side][index]
                    stages = pipelines[side, lead["team_id"] and lead["team_id"][0]]
                    current = lead["stage_id"][0]
                    position = stages.index(current) if current in stages else 0
                    target = stages[(position + (1 if round_ % 2 == 0 else -1)) % len(stages)]
                    started = time.perf_counter()
                    calls[side](
                        "crm.lead", "web_save", [lead["id"]], {"stage_id": target}, specification=CARD
                    )
                    timings[side].append((time.perf_counter() - started) * 1000)
                    lead["stage_id"] = [target]
            if round_:
                for side, values in medians.items():
                    values.append(statistics.median(timings[side]))
        return {
            side: {"medians": values, "median": statistics.median(values)} for side, values in medians.items()
        }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--drags", type=int, default=100)
    parser.add_argument(
        "--reuse", action="store_true", help="drag on the databases of the last run, no install"
    )
    args = parser.parse_args()
    bench = Bench(args.leads)
    bench.ensure_template()
    stock, addon = f"{bench.template}_write_stock", f"{bench.template}_write_addon"
    install_seconds = float("nan")
    if not args.reuse:
        bench.copy(stock)
        bench.copy(addon)
        install_seconds, _build_seconds = bench.install_addon(addon)
        bench.psql(addon, "VACUUM ANALYZE")
    results = {
        "in_process": drags(bench, stock, addon, args.rounds, args.drags),
        "rpc": rpc_drags(bench, stock, addon, args.rounds, args.drags),
    }
    ratios = {mode: values["addon"]["median"] / values["stock"]["median"] for mode, values in results.items()}
    lines = [
        (
            f"{args.leads:,} leads; {args.rounds} rounds of {args.drags} drags, each its own transaction: in-process "
            "(`write` of the stage, then commit), and as the kanban view makes them (`web_save` over JSON-RPC, "
            "reading the card back). Stock and addon drags alternate, one each in turn, so that both meet the "
            "same load of the machine."
        ),
        "",
        "| database | in-process ms | JSON-RPC ms |",
        "| --- | ---: | ---: |",
        *(
            f"| {label} | {results['in_process'][key]['median']:.1f} | {results['rpc'][key]['median']:.1f} |"
            for key, label in (("stock", "stock crm"), ("addon", "with the addon"))
        ),
        "",
        (
            f"Ratio addon / stock (medians of the rounds' medians): **{ratios['in_process']:.2f}** in-process, "
            f"**{ratios['rpc']:.2f}** over JSON-RPC (target 1.2). "
            + (
                f"Addon installed in {install_seconds:.0f} s."
                if args.reuse is False
                else "Databases of an earlier run (`--reuse`): the install is measured by bench_funnel.py."
            )
        ),
    ]
    write_results("write", "One stage change, against stock crm", lines, dict(results, ratios=ratios))


if __name__ == "__main__":
    main()

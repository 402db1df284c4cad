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
import os
import statistics
import subprocess
import time

import requests
from benchlib import Bench, harness, write_results

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


# What the kanban view reads back after a drag (`web_save`): a card's fields.
CARD = {
    "stage_id": {"fields": {"display_name": {}}},
    "name": {},
    "expected_revenue": {},
    "probability": {},
    "user_id": {"fields": {"display_name": {}}},
}


def rpc_drags(bench, db, rounds, count):
    """The same drags as the web client makes them: `web_save` over JSON-RPC
    on a running server, one request (one transaction) each."""
    port = harness.free_port()
    cmd = harness.odoo_cmd(
        bench.odoo, "-d", db, f"--db-filter=^{db}$", "--http-interface=127.0.0.1", f"--http-port={port}",
        "--workers=0", "--max-cron-threads=0", "--log-level=warn",
    )  # fmt: skip
    server = subprocess.Popen(
        cmd, env=os.environ | bench.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()

    def call(model, method, *args, **kwargs):
        payload = {"params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}}
        response = session.post(
            f"{url}/web/dataset/call_kw/{model}/{method}", json=payload, timeout=120
        ).json()
        if "error" in response:
            raise RuntimeError(response["error"])
        return response["result"]

    try:
        for _attempt in range(120):
            try:
                session.get(f"{url}/web/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(1)
        session.post(f"{url}/web/session/authenticate", timeout=60,
                     json={"params": {"db": db, "login": "admin", "password": "admin"}}).raise_for_status()  # fmt: skip
        leads = call(
            "crm.lead", "search_read",
            [("type", "=", "opportunity"), ("won_status", "=", "pending"), ("active", "=", True)],
            ["stage_id", "team_id"], order="id desc", limit=count,
        )  # fmt: skip
        pipelines = {}
        for lead in leads:
            team = lead["team_id"] and lead["team_id"][0]
            if team not in pipelines:
                pipelines[team] = call(
                    "crm.stage", "search",
                    ["|", ("team_ids", "=", False), ("team_ids", "in", [team] if team else []), ("is_won", "=", False)],
                    order="sequence, id",
                )  # fmt: skip
        medians = []
        for round_ in range(rounds + 1):
            timings = []
            for lead in leads:
                stages = pipelines[lead["team_id"] and lead["team_id"][0]]
                current = lead["stage_id"][0]
                position = stages.index(current) if current in stages else 0
                target = stages[(position + (1 if round_ % 2 == 0 else -1)) % len(stages)]
                started = time.perf_counter()
                call("crm.lead", "web_save", [lead["id"]], {"stage_id": target}, specification=CARD)
                timings.append((time.perf_counter() - started) * 1000)
                lead["stage_id"] = [target]
            if round_:
                medians.append(statistics.median(timings))
        return {"medians": medians, "median": statistics.median(medians)}
    finally:
        server.terminate()
        server.wait(timeout=60)


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
    results = {
        "in_process": {"stock": drags(bench, stock, args.rounds, args.drags),
                       "addon": drags(bench, addon, args.rounds, args.drags)},
        "rpc": {"stock": rpc_drags(bench, stock, args.rounds, args.drags),
                "addon": rpc_drags(bench, addon, args.rounds, args.drags)},
    }  # fmt: skip
    ratios = {mode: values["addon"]["median"] / values["stock"]["median"] for mode, values in results.items()}
    lines = [
        (
            f"{args.leads:,} leads; {args.rounds} rounds of {args.drags} drags, each its own transaction: in-process "
            "(`write` of the stage, then commit), and as the kanban view makes them (`web_save` over JSON-RPC, "
            "reading the card back)."
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
            f"**{ratios['rpc']:.2f}** over JSON-RPC (target 1.2). Addon installed in {install_seconds:.0f} s."
        ),
    ]
    write_results("write", "One stage change, against stock crm", lines, dict(results, ratios=ratios))


if __name__ == "__main__":
    main()

"""Run in `odoo-bin shell` by bench_funnel.py --churn N: N live stage moves
through the ORM, as users make them (one lead's stage written at a time),
committed every 500 moves. Leads are drawn at random among the open
opportunities, moved one stage forward or back in their team's pipeline.

Reads BENCH_CHURN (the number of moves) and BENCH_SEED from the environment.
"""

import os
import random
import time

env = env  # noqa: F821,PLW0127 (odoo-bin shell provides env)

MOVES = int(os.environ["BENCH_CHURN"])
rng = random.Random(int(os.environ.get("BENCH_SEED", "7")))
env.cr.execute(
    "SELECT id FROM crm_lead WHERE type = 'opportunity' AND active AND won_status = 'pending' ORDER BY id"
)
lead_ids = [lead_id for (lead_id,) in env.cr.fetchall()]
pipelines = {}
started = time.monotonic()
for number in range(MOVES):
    lead = env["crm.lead"].browse(rng.choice(lead_ids))
    team = lead.team_id
    if team.id not in pipelines:
        pipelines[team.id] = env["crm.stage"].search(
            ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids), ("is_won", "=", False)],
            order="sequence, id",
        )
    stages = pipelines[team.id]
    position = list(stages).index(lead.stage_id) if lead.stage_id in stages else 0
    step = rng.choice([-1, 1]) if 0 < position < len(stages) - 1 else (1 if position == 0 else -1)
    lead.write({"stage_id": stages[position + step].id})
    if number % 500 == 499:
        env.cr.commit()
        env.invalidate_all()
env.cr.commit()
print(f"CHURN {MOVES} moves in {time.monotonic() - started:.0f} s")

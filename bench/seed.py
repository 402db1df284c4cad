"""Run in `odoo-bin shell` on a database with crm: the few records a big
benchmark database needs that are easier to make with the ORM than in SQL
(users with their groups, teams, team stages). generate.sql adds the volume.
"""

import json

env = env  # noqa: F821,PLW0127 (odoo-bin shell provides env)

salesman_group = env.ref("sales_team.group_sale_salesman")
users = env["res.users"].create(
    [
        {
            "name": f"Bench Salesperson {i:02d}",
            "login": f"bench_user_{i:02d}",
            "group_ids": [(6, 0, salesman_group.ids)],
        }
        for i in range(1, 21)
    ]
)
teams = env["crm.team"].create(
    [{"name": f"Bench Team {t}", "member_ids": [(6, 0, users[(t - 1) * 5 : t * 5].ids)]} for t in range(1, 5)]
)
# Each team has a custom stage of its own, as companies already on Odoo do.
for team in teams:
    env["crm.stage"].create({"name": f"Demo ({team.name})", "sequence": 2, "team_ids": [(6, 0, team.ids)]})
env.cr.commit()
print("JSON " + json.dumps({"users": len(users), "teams": len(teams)}))

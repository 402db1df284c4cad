from odoo.tests import TransactionCase, new_test_user


def use_step_weights(env):
    """The steps' own weights on every stage: a module installed beside may
    have given the database's stages weights of their own (the bridge to
    crm_stage_probability takes its stage probabilities over), which the
    tests' figures do not assume."""
    env["crm.stage"].with_context(active_test=False).search(
        [("funnel_weight_custom", "=", True)]
    ).funnel_weight_custom = False


class FunnelCase(TransactionCase):
    """A team with one stage per funnel step, users and known thresholds.

    The team's stages are its own; their sequences are the steps' own, so
    that they sit with the standard stages of the database without breaking
    the order of weights.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.write({"funnel_tier_big_amount": 30000.0, "funnel_tier_short_days": 90})
        cls.steps = cls.env["sales.funnel.step"].search([])
        use_step_weights(cls.env)
        cls.step = {step.code: step for step in cls.steps}
        cls.salesman = new_test_user(
            cls.env, "funnel_salesman", groups="sales_team.group_sale_salesman", company_id=cls.company.id
        )
        cls.manager = new_test_user(
            cls.env, "funnel_manager", groups="sales_team.group_sale_manager", company_id=cls.company.id
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Funnel Team",
                "company_id": cls.company.id,
                "funnel_probability_mode": "stage_weight",
                "use_funnel_gates": True,
                "member_ids": [(4, cls.salesman.id)],
            }
        )
        cls.stage = {
            step.code: cls.env["crm.stage"].create(
                {
                    "name": f"Team {step.code}",
                    "sequence": step.sequence,
                    "team_ids": [(6, 0, cls.team.ids)],
                    "funnel_step_id": step.id,
                    "is_won": step.code == "after_sales",
                }
            )
            for step in cls.steps
        }

    @classmethod
    def _lead(cls, stage_code="identify", **values):
        # a lead is created past a gate with the answers the gate asks for
        step = cls.stage[stage_code].funnel_step_id
        if step.requires_need:
            values.setdefault("man_need", "yes")
        if step.requires_authority:
            values.setdefault("man_authority", "yes")
        return cls.env["crm.lead"].create(
            {
                "name": values.pop("name", f"Opportunity in {stage_code}"),
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": cls.salesman.id,
                "stage_id": cls.stage[stage_code].id,
                **values,
            }
        )

    @staticmethod
    def _qualify(lead, money="yes", authority="yes", need="yes"):
        lead.write({"man_money": money, "man_authority": authority, "man_need": need})
        return lead

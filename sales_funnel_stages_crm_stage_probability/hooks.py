"""Take over crm_stage_probability's stage probabilities as funnel weights."""

import logging

from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)


def post_init_hook(env):
    if probabilities_came_first(env):
        take_over_stage_probabilities(env)
    env.cr.execute(
        "UPDATE crm_stage SET probability = funnel_weight WHERE probability IS DISTINCT FROM funnel_weight"
    )
    env["crm.stage"].invalidate_model(["probability"])


def probabilities_came_first(env):
    """Whether crm_stage_probability was installed before the funnel (its
    field first): its stage probabilities are then those the company worked
    with. Installed after, they are those its data wrote on crm's stages,
    which the funnel's weights already replace."""
    env.cr.execute(
        """
        SELECT name FROM ir_model_fields
         WHERE model = 'crm.stage' AND name IN ('probability', 'funnel_weight')
         ORDER BY id LIMIT 1
        """
    )
    return env.cr.fetchone()[0] == "probability"


def take_over_stage_probabilities(env):
    """Give each stage whose probability crm_stage_probability applied (its
    "Change Probability Automatically") that probability as a custom weight;
    a weight a manager set already stays.

    The probabilities are read from the column: installing this module does
    not recompute an existing column. Each is tried again while others go
    through (the order of the weights is checked against those already
    taken); one that would still make the weights decrease along a team's
    pipeline is not taken over (the stage keeps its weight) and is logged.
    Returns the stages left out.
    """
    env.cr.execute(
        """
        SELECT id, probability FROM crm_stage
         WHERE on_change AND is_won IS NOT TRUE AND probability IS NOT NULL
           AND funnel_weight_custom IS NOT TRUE AND probability IS DISTINCT FROM funnel_weight
         ORDER BY sequence, id
        """
    )
    pending = dict(env.cr.fetchall())
    refusals = {}
    taken = True
    while pending and taken:
        taken = False
        for stage_id, probability in list(pending.items()):
            try:
                with env.cr.savepoint():
                    env["crm.stage"].browse(stage_id).write(
                        {"funnel_weight_custom": True, "funnel_weight": probability}
                    )
            except ValidationError as error:
                refusals[stage_id] = error
                continue
            del pending[stage_id]
            taken = True
    left_out = env["crm.stage"].browse(list(pending))
    for stage in left_out:
        _logger.warning(
            "Stage %r keeps its weight %s%% instead of its probability %s%%: %s",
            stage.name,
            stage.funnel_weight,
            pending[stage.id],
            refusals[stage.id],
        )
    return left_out

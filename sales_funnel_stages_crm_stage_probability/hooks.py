"""Take over crm_stage_probability's stage probabilities as funnel weights."""

import logging

from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)


def post_init_hook(env):
    take_over_stage_probabilities(env)


def take_over_stage_probabilities(env):
    """Give each stage whose probability crm_stage_probability applied (its
    "Change Probability Automatically") that probability as a custom weight,
    then align every stage's probability with its weight.

    The probabilities are read from the column: installing this module does
    not recompute an existing column, so it still holds what the users of
    crm_stage_probability typed. A probability that would make the weights
    decrease along a team's pipeline is not taken over (the stage keeps its
    step's weight) and is logged. Returns the stages left out.
    """
    env.cr.execute(
        """
        SELECT id, probability FROM crm_stage
         WHERE on_change AND is_won IS NOT TRUE AND probability IS NOT NULL
         ORDER BY sequence, id
        """
    )
    left_out = env["crm.stage"]
    for stage_id, probability in env.cr.fetchall():
        stage = env["crm.stage"].browse(stage_id)
        if stage.funnel_weight == probability:
            continue
        try:
            with env.cr.savepoint():
                stage.write({"funnel_weight_custom": True, "funnel_weight": probability})
        except ValidationError as error:
            left_out |= stage
            _logger.warning(
                "Stage %r keeps its funnel step's weight %s%% instead of its probability %s%%: %s",
                stage.name,
                stage.funnel_weight,
                probability,
                error,
            )
    env.cr.execute(
        "UPDATE crm_stage SET probability = funnel_weight WHERE probability IS DISTINCT FROM funnel_weight"
    )
    env["crm.stage"].invalidate_model(["probability"])
    return left_out

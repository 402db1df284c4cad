"""crm.stage and its funnel step: the mapping of stages onto steps by meaning, the weights,
the rotting thresholds and the install's stage setup read together; split, each would
need the others' rules to be understood (one concept: where a stage sits in the funnel)."""

import math
import re

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import groupby

from ..definitions import WON_STEP

# Words that name each open step in stage names (beside the step's own name
# in every language), the stock stages of crm and of other CRMs included.
STEP_WORDS = {
    "identify": ["new", "lead", "prospect", "identif", "新建", "线索", "線索", "潜在", "潛在"],
    "needs": ["qualif", "need", "discovery", "已评估", "已評估", "需求"],
    "solution": ["solution", "demo", "design", "方案"],
    "proposal": ["propos", "quot", "offer", "提案", "报价", "報價"],
    "negotiation": [
        "negotiat",
        "contract",
        "signing",
        "closing",
        "谈判",
        "談判",
        "合同",
        "合約",
        "签约",
        "簽約",
    ],
}


# Days to rot of the stages the addon creates, per step, until the funnel
# has measured its own (the suggestion): about the median stay in the step.
ROTTING_DAYS = {"identify": 14, "needs": 21, "solution": 30, "proposal": 21, "negotiation": 30}


class CrmStage(models.Model):
    """A team's stage, mapped onto one canonical funnel step.

    Teams keep their own stages; many stages (of one team or of several) may
    share a step. The stage's weight is its step's default weight unless the
    stage sets its own.
    """

    _name = "crm.stage"
    _inherit = ["crm.stage", "sales.funnel.finite.mixin"]

    funnel_step_id = fields.Many2one(
        "sales.funnel.step",
        index=True,
        ondelete="restrict",
        help="Canonical funnel step of this stage: it makes the funnels of different teams comparable.",
    )
    funnel_weight_custom = fields.Boolean(
        string="Custom Weight",
        help="Give this stage a weight of its own instead of its funnel step's default weight.",
    )
    funnel_weight = fields.Float(
        string="Weight (%)",
        digits=(5, 2),
        compute="_compute_funnel_weight",
        store=True,
        readonly=False,
        help="Probability weight of the stage, 0 to 100: the funnel step's default weight unless "
        "custom; a won stage weighs 100. Weights may not decrease along a team's pipeline: "
        "a stage placed after another weighs at least as much.",
    )

    funnel_rotting_suggestion = fields.Integer(
        string="Suggested Rotting Threshold",
        compute="_compute_funnel_rotting_suggestion",
        help="Days: the 90th percentile of the time opportunities spent in this stage's funnel step "
        "(stays that ended). Nine in ten moved on sooner: one still there after that many days is "
        "worth a look.",
    )

    @api.depends("funnel_step_id", "is_won")
    def _compute_funnel_rotting_suggestion(self):
        steps = self.funnel_step_id
        suggestions = {}
        if steps:
            self.env["sales.funnel.lead.step"].flush_model()
            self.env.cr.execute(
                """
                SELECT step_id, percentile_disc(0.9) WITHIN GROUP (ORDER BY days_closed)
                  FROM sales_funnel_lead_step
                 WHERE step_id IN %s AND NOT is_current AND days_closed > 0
                 GROUP BY step_id
                """,
                [tuple(steps.ids)],
            )
            suggestions = dict(self.env.cr.fetchall())
        for stage in self:
            days = suggestions.get(stage.funnel_step_id.id)
            stage.funnel_rotting_suggestion = math.ceil(days) if days and not stage.is_won else 0

    def _funnel_set_rotting_threshold(self):
        """Give open stages without one a rotting threshold: their step's
        measured suggestion, else the step's default."""
        for stage in self.filtered(lambda stage: not stage.is_won and not stage.rotting_threshold_days):
            stage.rotting_threshold_days = stage.funnel_rotting_suggestion or ROTTING_DAYS.get(
                stage.funnel_step_id.code, 0
            )

    def action_funnel_apply_rotting_suggestion(self):
        for stage in self.filtered("funnel_rotting_suggestion"):
            stage.rotting_threshold_days = stage.funnel_rotting_suggestion

    @api.depends("funnel_step_id.weight", "funnel_weight_custom", "is_won")
    def _compute_funnel_weight(self):
        for stage in self:
            if stage.is_won:
                stage.funnel_weight = 100.0
            elif not stage.funnel_weight_custom:
                stage.funnel_weight = stage.funnel_step_id.weight
            # a custom weight keeps the value the manager typed

    @api.constrains("funnel_weight", "is_won")
    def _check_funnel_weight(self):
        for stage in self:
            if not 0 <= stage.funnel_weight <= 100:
                raise ValidationError(
                    self.env._(
                        "The weight of stage “%(stage)s” must be between 0 and 100, not %(weight)s.",
                        stage=stage.name,
                        weight=stage.funnel_weight,
                    )
                )
            if stage.is_won and stage.funnel_weight != 100:
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is a won stage: its weight must be 100, not %(weight)s.",
                        stage=stage.name,
                        weight=stage.funnel_weight,
                    )
                )

    @api.constrains("funnel_weight", "sequence", "team_ids", "funnel_step_id")
    def _check_funnel_weight_order(self):
        """Along each team's pipeline a later stage weighs at least as much
        as an earlier one. Stages without a funnel step are outside the
        funnel, won stages are terminal, and stages of equal sequence have
        no order between them: none of these is compared."""
        teams = self.team_ids
        if not all(stage.team_ids for stage in self):  # a shared stage is in every pipeline
            teams = self.env["crm.team"].with_context(active_test=False).search([])
        # every pipeline from one read of the stages, not one search per team
        funnel_stages = self.search(
            [("funnel_step_id", "!=", False), ("is_won", "=", False)], order="sequence, id"
        )
        for team in [self.env["crm.team"], *teams]:
            stages = funnel_stages.filtered(
                lambda stage, team=team: not stage.team_ids or (team and team in stage.team_ids)
            )
            heaviest = None
            for _sequence, same_sequence in groupby(stages, key=lambda stage: stage.sequence):
                same_sequence = list(same_sequence)
                lightest = min(same_sequence, key=lambda stage: stage.funnel_weight)
                if heaviest and lightest.funnel_weight < heaviest.funnel_weight:
                    raise ValidationError(
                        self.env._(
                            "Weights may not decrease along the funnel: stage “%(stage)s” (%(weight)s%%) "
                            "comes after “%(previous)s” (%(previous_weight)s%%) in the pipeline of "
                            "%(pipeline)s. Give it a weight of at least %(previous_weight)s%%, or "
                            "move it before.",
                            stage=lightest.name,
                            weight=lightest.funnel_weight,
                            previous=heaviest.name,
                            previous_weight=heaviest.funnel_weight,
                            pipeline=team.name or self.env._("the shared stages"),
                        )
                    )
                candidate = max(same_sequence, key=lambda stage: stage.funnel_weight)
                if not heaviest or candidate.funnel_weight > heaviest.funnel_weight:
                    heaviest = candidate

    @api.model
    def _funnel_pipeline(self, team):
        """The stages of a team's pipeline in order (no team: the shared stages)."""
        domain = [("team_ids", "=", False)]
        if team:
            domain = ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids)]
        return self.search(domain, order="sequence, id")

    @api.model
    def _funnel_bounds(self, pipeline, step):
        """(low, high): a stage of `step` in `pipeline` comes after the
        stages of earlier steps (sequence > low) and before those of later
        ones (sequence < high; None: no later stage)."""
        before = pipeline.filtered(lambda stage: 0 < stage.funnel_step_id.sequence <= step.sequence)
        after = pipeline.filtered(lambda stage: stage.funnel_step_id.sequence > step.sequence)
        return max(before.mapped("sequence"), default=0), min(after.mapped("sequence"), default=None)

    @api.model
    def _funnel_free_sequence(self, pipeline, step):
        """A sequence for a new stage of `step`: after the stages of earlier
        steps, before those of later ones. Renumbers the pipeline (keeping
        its order) when there is no room between them."""
        low, high = self._funnel_bounds(pipeline, step)
        if high is not None and high - low < 2:
            # One statement: renumbered one by one, the stages would be out
            # of order midway and the weight-order check would refuse it.
            self.env.cr.execute(
                """
                UPDATE crm_stage SET sequence = renumbered.sequence
                  FROM unnest(%s::int[], %s::int[]) AS renumbered(id, sequence)
                 WHERE crm_stage.id = renumbered.id
                """,
                [pipeline.ids, [position * 10 for position in range(1, len(pipeline) + 1)]],
            )
            pipeline.invalidate_recordset(["sequence"])
            low, high = self._funnel_bounds(pipeline, step)
        return low + 1

    # ------------------------------------------------------------ install

    @api.model
    def _funnel_setup_stages(self):
        """At install: a new CRM gets one stage per funnel step; an existing
        CRM keeps every stage it has, each mapped onto a funnel step."""
        if self._funnel_is_pristine_crm():
            self._funnel_create_standard_stages()
        else:
            self._funnel_map_existing_stages()

    @api.model
    def _funnel_is_pristine_crm(self):
        """No lead yet, and no stage but crm's own stock stages."""
        self.env.cr.execute(
            """
            SELECT NOT EXISTS (SELECT 1 FROM crm_lead)
               AND NOT EXISTS (SELECT 1 FROM crm_stage AS stage
                                WHERE NOT EXISTS (SELECT 1 FROM ir_model_data AS imd
                                                   WHERE imd.model = 'crm.stage' AND imd.res_id = stage.id
                                                     AND imd.module = 'crm'))
            """
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _funnel_create_standard_stages(self):
        """One stage per funnel step, in order, the after-sales step being
        the won stage. crm's stock stages (no lead uses them yet) serve the
        steps they stand for and keep their names, ids and translations;
        the steps they lack get a stage named after the step."""
        stock = {
            "identify": "crm.stage_lead1",
            "needs": "crm.stage_lead2",
            "proposal": "crm.stage_lead3",
            "after_sales": "crm.stage_lead4",
        }
        for sequence, step in enumerate(self.env["sales.funnel.step"].search([]), start=1):
            values = {"sequence": sequence, "funnel_step_id": step.id, "is_won": step.code == WON_STEP}
            stage = stock.get(step.code) and self.env.ref(stock[step.code], raise_if_not_found=False)
            if stage:
                stage.write(values)
                stage._funnel_set_rotting_threshold()
                continue
            [stage] = self._load_records(
                [
                    {
                        "xml_id": f"sales_funnel_stages.crm_stage_{step.code}",
                        "values": dict(values, name=step.name),
                        "noupdate": True,
                    }
                ]
            )
            stage._funnel_name_after_step()
            stage._funnel_set_rotting_threshold()

    def _funnel_name_after_step(self):
        """The stages the addon created are named after their step: in each
        installed language, the step's name, unless the stage has a name of
        its own there (called again when a language is installed)."""
        langs = [lang for lang, _name in self.env["res.lang"].get_installed()]
        self.flush_recordset(["name"])
        self.env.cr.execute("SELECT id, name FROM crm_stage WHERE id IN %s", [tuple(self.ids) or (0,)])
        stored = dict(self.env.cr.fetchall())
        for stage in self:
            names = stored[stage.id]
            stage.update_field_translations(
                "name",
                {
                    lang: stage.funnel_step_id.with_context(lang=lang).name
                    for lang in langs
                    if names.get(lang, names["en_US"]) == names["en_US"]
                },
            )

    @api.model
    def _funnel_named_after_steps(self):
        """The stages whose English name is their step's."""
        self.env.cr.execute(
            """
            SELECT stage.id FROM crm_stage AS stage
              JOIN sales_funnel_step AS step ON step.id = stage.funnel_step_id
             WHERE stage.name->>'en_US' = step.name->>'en_US'
            """
        )
        return self.browse(stage_id for (stage_id,) in self.env.cr.fetchall())

    @api.model
    def _funnel_map_existing_stages(self):
        """Map each unmapped stage onto a step: won stages to after-sales;
        the others by what their name means, in any installed language
        ("Proposition" is a proposal), else by their place in each pipeline
        (first stage to lead identification, second to needs analysis...),
        never decreasing along a pipeline. Written in SQL: the leads are
        refreshed by the build the install queues."""
        steps = self.env["sales.funnel.step"].search([])
        won_step = steps.filtered(lambda step: step.code == WON_STEP)
        open_steps = steps - won_step
        mapping = {
            stage: won_step for stage in self.search([("is_won", "=", True), ("funnel_step_id", "=", False)])
        }
        meanings = self._funnel_meanings(open_steps)

        def step_index(stage):
            step = mapping.get(stage) or stage.funnel_step_id
            return open_steps.ids.index(step.id) if step in open_steps else None

        teams = self.env["crm.team"].with_context(active_test=False).search([])
        for team in [self.env["crm.team"], *teams]:
            pipeline = self._funnel_pipeline(team).filtered(lambda stage: not stage.is_won)
            known = [step_index(stage) for stage in pipeline]
            lower = 0
            for position, stage in enumerate(pipeline):
                if known[position] is not None:
                    lower = max(lower, known[position])
                    continue
                upper = next((index for index in known[position:] if index is not None), len(open_steps) - 1)
                meant = meanings.get(stage.id)
                if meant is None or not lower <= meant <= upper:
                    meant = min(max(min(position, len(open_steps) - 1), lower), upper)
                mapping[stage] = open_steps[meant]
                known[position] = lower = meant
        for step in steps:
            stages = [stage.id for stage, mapped in mapping.items() if mapped == step]
            if stages:
                self.env.cr.execute(
                    "UPDATE crm_stage SET funnel_step_id = %s, funnel_weight = %s WHERE id IN %s",
                    [step.id, 100.0 if step == won_step else step.weight, tuple(stages)],
                )
        self.invalidate_model(["funnel_step_id", "funnel_weight"])
        self.env.registry.clear_cache()

    @api.model
    def _funnel_meanings(self, open_steps):
        """{stage id: index in `open_steps`} of the unmapped stages whose
        name, in one of its languages, holds a word of a step: its name in
        any language, or a usual name of such a stage. A Latin word counts
        from the start of a word ("Renewal" is not new)."""
        self.env.cr.execute("SELECT id, name FROM sales_funnel_step WHERE id IN %s", [tuple(open_steps.ids)])
        step_names = dict(self.env.cr.fetchall())
        patterns = [
            re.compile(
                "|".join(
                    r"(?<![a-z])" + re.escape(word.lower())
                    for word in [*STEP_WORDS.get(step.code, ()), *step_names[step.id].values()]
                )
            )
            for step in open_steps
        ]
        self.env.cr.execute(
            "SELECT id, name FROM crm_stage WHERE funnel_step_id IS NULL AND is_won IS NOT TRUE"
        )
        meanings = {}
        for stage_id, names in self.env.cr.fetchall():
            labels = [label.lower() for label in names.values()]
            meanings[stage_id] = next(
                (index for index, pattern in enumerate(patterns) if any(map(pattern.search, labels))), None
            )
        return meanings

    @api.model
    @tools.ormcache()
    def _funnel_stage_map(self):
        """{stage id: (funnel step id or None, won stage)} of every stage:
        read on every recorded move, cached until stages change."""
        self.flush_model(["funnel_step_id", "is_won"])
        self.env.cr.execute("SELECT id, funnel_step_id, is_won FROM crm_stage")
        return {stage_id: (step_id, bool(is_won)) for stage_id, step_id, is_won in self.env.cr.fetchall()}

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        after_sales = self.env["sales.funnel.step"]._won_step()
        for vals in vals_list:
            if vals.get("is_won") and not vals.get("funnel_step_id") and after_sales:
                vals["funnel_step_id"] = after_sales.id
        stages = super().create(vals_list)
        self.env.registry.clear_cache()
        return stages

    def write(self, vals):
        if not {"funnel_weight", "funnel_weight_custom", "funnel_step_id", "is_won"} & set(vals):
            return super().write(vals)
        old_weights = self._funnel_weights()
        result = super().write(vals)
        self._funnel_propagate_weights(old_weights)
        if {"funnel_step_id", "is_won"} & set(vals):
            self.env.registry.clear_cache()
            self.env["sales.funnel.history"]._stages_remapped(self)
        return result

    def _funnel_weights(self):
        return {stage.id: stage.funnel_weight for stage in self}

    def _funnel_propagate_weights(self, old_weights):
        """Bring the leads of stages whose weight changed up to date."""
        self.flush_recordset(["funnel_weight"])
        changed = self.filtered(lambda stage: stage.funnel_weight != old_weights.get(stage.id))
        if changed:
            self.env["crm.lead"]._funnel_on_stage_weight_change(changed, old_weights)

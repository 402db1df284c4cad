"""crm.lead's part of the funnel: the fields shown on the lead (MAN, tier, gates, days in
stage, key steps), the key-step plans, the gate refusals, the stage-weight probability
and the thin hooks that hand every write to the history. Sectioned; each section reads
crm's own lead."""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

MAN_ANSWERS = [("unknown", "Unknown"), ("yes", "Yes"), ("no", "No")]

# Funnel method, section 4: upper case = present, lower case = absent. The
# keys spell the answers to Money, Authority, Need (y = yes, n = no): Odoo
# names selection values case-insensitively, so "M+A+N" and "m+a+n" cannot
# both be keys.
MAN_CLASSES = [
    ("yyy", "M+A+N"),
    ("yyn", "M+A+n"),
    ("yny", "M+a+N"),
    ("nyy", "m+A+N"),
    ("nny", "m+a+N"),
    ("nyn", "m+A+n"),
    ("ynn", "M+a+n"),
    ("nnn", "m+a+n"),
    ("not_assessed", "Not assessed"),
]

# Funnel method, section 5: (big opportunity, short time to close) -> tier.
TIERS = [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]
TIER_MATRIX = {(True, True): "a", (False, True): "b", (True, False): "c", (False, False): "d"}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # A lead's customer type in the funnel summary (`sales.funnel.lead.step.
    # LEAD_DIMENSIONS`) is read from its customer's first win, on every move
    # and for every lead of the history build. Through crm's partner_id index
    # that reads all of the customer's leads (120 ms per thousand leads on a
    # million, half the build's summary); this index holds the wins only and
    # gives the first from its start (8 ms).
    _customer_first_win_idx = models.Index("(partner_id, date_closed) WHERE won_status = 'won'")

    # Funnel position and weighted revenue
    funnel_step_id = fields.Many2one(related="stage_id.funnel_step_id")
    funnel_weight = fields.Float(related="stage_id.funnel_weight", string="Stage Weight (%)")
    weighted_revenue = fields.Monetary(
        currency_field="company_currency",
        compute="_compute_weighted_revenue",
        store=True,
        help="Expected revenue times the weight of the stage, in company currency; 0 once lost.",
    )

    # MAN qualification
    man_money = fields.Selection(
        MAN_ANSWERS, string="Money", default="unknown", required=True, tracking=True,
        help="Can the buyer pay?",
    )  # fmt: skip
    man_authority = fields.Selection(
        MAN_ANSWERS, string="Authority", default="unknown", required=True, tracking=True,
        help="Do we reach who decides, advises or can veto?",
    )  # fmt: skip
    man_need = fields.Selection(
        MAN_ANSWERS, string="Need", default="unknown", required=True, tracking=True,
        help="Does the buyer need what we sell?",
    )  # fmt: skip
    man_money_note = fields.Char(string="Budget", help="What is known of the budget.")
    man_authority_note = fields.Char(string="Who Decides", help="Who decides, advises or can veto.")
    man_need_note = fields.Char(string="What Need", help="The need the buyer expressed.")
    man_class = fields.Selection(
        MAN_CLASSES,
        string="MAN Class",
        compute="_compute_man_class",
        store=True,
        tracking=True,
        help="Upper case: present, lower case: absent. Assessed once Money, Authority and Need "
        "are all answered.",
    )
    man_action = fields.Char(string="MAN Recommended Action", compute="_compute_man_action")

    # A/B/C/D priority tier
    priority_tier = fields.Selection(
        TIERS,
        string="Tier",
        compute="_compute_priority_tier",
        store=True,
        tracking=True,
        help="A: big and short, B: small and short, C: big and long, D: small and long. Big: "
        "expected revenue at or above the company's threshold; short: expected closing within "
        "the company's number of days (no date: long). A change of tier that follows an edit of the "
        "opportunity is logged in its chatter; one that follows new thresholds or the passing of days "
        "(applied to many opportunities at once) is not.",
    )
    priority_tier_override = fields.Selection(
        TIERS,
        string="Tier Override",
        tracking=True,
        help="Set a tier by hand; it survives recomputation until cleared.",
    )
    priority_tier_action = fields.Char(string="Tier Action", compute="_compute_priority_tier_action")

    # Stage gates
    funnel_gate_status = fields.Char(
        string="Next Step Gate",
        compute="_compute_funnel_gate_status",
        help="What the opportunity lacks to enter the next funnel step, when its team enforces gates.",
    )

    # Key steps of the current step (funnel method, section 1): an activity
    # plan per step, proposed or scheduled as the lead enters it; progress
    # counted from the plan's activity types, done (archived) or to do
    funnel_step_guidance = fields.Text(related="stage_id.funnel_step_id.guidance", string="Step Guidance")
    funnel_key_step_mode = fields.Selection(related="team_id.funnel_key_step_mode", string="Team's Key Steps")
    funnel_key_steps_total = fields.Integer(
        string="Key Steps", compute="_compute_funnel_key_steps", help="Key steps of the current funnel step."
    )
    funnel_key_steps_done = fields.Integer(
        string="Key Steps Done",
        compute="_compute_funnel_key_steps",
        help="Key steps of the current funnel step whose activity is done.",
    )
    funnel_key_steps_planned = fields.Boolean(
        compute="_compute_funnel_key_steps",
        help="An activity of the current step's key steps was scheduled, done or not.",
    )

    # Influence funnel (funnel method, section 1; sales.funnel.influence):
    # the customer whose referral brought the lead
    funnel_referred_by_id = fields.Many2one(
        "res.partner",
        string="Referring Customer",
        index="btree_not_null",
        tracking=True,
        help="The customer who referred this lead or opportunity to you (crm's Referred By is free text).",
    )

    # Stage history
    funnel_history_ids = fields.One2many("sales.funnel.history", "lead_id", string="Stage History")
    funnel_history_count = fields.Integer(compute="_compute_funnel_history_count")
    funnel_days_in_stage = fields.Integer(
        string="Days in Stage",
        compute="_compute_funnel_days_in_stage",
        help="Whole days since the opportunity entered its current stage.",
    )

    # Buying roles (funnel method, section 6); recording a decision maker
    # answers Authority (see crm.lead.buying.role)
    buying_role_ids = fields.One2many("crm.lead.buying.role", "lead_id", string="Buying Roles")
    buying_roles_known = fields.Integer(
        compute="_compute_buying_role_coverage",
        help="How many of the four buying roles (decision maker, technical selector, buyer, user) have a "
        "contact.",
    )
    buying_roles_complete = fields.Boolean(
        string="All Buying Roles Known",
        compute="_compute_buying_role_coverage",
        search="_search_buying_roles_complete",
    )
    buying_roles_missing = fields.Char(string="Missing Buying Roles", compute="_compute_buying_role_coverage")
    buying_role_supporter = fields.Boolean(
        string="Has a Supporter",
        compute="_compute_buying_role_coverage",
        search="_search_buying_role_supporter",
        help="A contact who wants us to win.",
    )

    # ------------------------------------------------------------ computes

    @api.depends("buying_role_ids.role", "buying_role_ids.attitude")
    def _compute_buying_role_coverage(self):
        roles = self.env["crm.lead.buying.role"]._fields["role"]._description_selection(self.env)
        for lead in self:
            known = set(lead.buying_role_ids.mapped("role"))
            lead.buying_roles_known = len(known & {role for role, _label in roles})
            lead.buying_roles_complete = lead.buying_roles_known == len(roles)
            lead.buying_roles_missing = (
                ", ".join(label for role, label in roles if role not in known) or False
            )
            lead.buying_role_supporter = "supporter" in lead.buying_role_ids.mapped("attitude")

    def _search_buying_roles_complete(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        roles = [role for role, _label in self.env["crm.lead.buying.role"]._fields["role"].selection]
        complete = Domain.AND(Domain("buying_role_ids", "any", [("role", "=", role)]) for role in roles)
        return complete if (True in value) == (operator == "in") else ~complete

    def _search_buying_role_supporter(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        supporter = Domain("buying_role_ids", "any", [("attitude", "=", "supporter")])
        return supporter if (True in value) == (operator == "in") else ~supporter

    @api.onchange("buying_role_ids")
    def _onchange_buying_role_ids(self):
        """Shown at once in the form: a decision maker answers Authority."""
        decision_makers = self.buying_role_ids.filtered(lambda role: role.role == "decision_maker")
        if decision_makers and self.man_authority != "yes":
            self.man_authority = "yes"
        if decision_makers and not self.man_authority_note:
            self.man_authority_note = decision_makers[0].partner_id.name

    def _compute_funnel_history_count(self):
        counts = dict(
            self.env["sales.funnel.history"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.funnel_history_count = counts.get(lead._origin, 0)

    @api.depends("date_last_stage_update")
    def _compute_funnel_days_in_stage(self):
        now = fields.Datetime.now()
        for lead in self:
            since = lead.date_last_stage_update
            # never below 0: the stage may have changed in this very transaction
            lead.funnel_days_in_stage = max((now - since).days, 0) if since and lead.active else 0

    @api.depends("expected_revenue", "stage_id", "won_status")
    def _compute_weighted_revenue(self):
        for lead in self:
            if lead.won_status == "lost":
                lead.weighted_revenue = 0.0
            else:
                weighted = (lead.expected_revenue or 0.0) * lead.stage_id.funnel_weight / 100.0
                lead.weighted_revenue = lead.company_currency.round(weighted)

    @api.depends("man_money", "man_authority", "man_need")
    def _compute_man_class(self):
        for lead in self:
            answers = (lead.man_money, lead.man_authority, lead.man_need)
            if "unknown" in answers:
                lead.man_class = "not_assessed"
            else:
                lead.man_class = "".join(answer[0] for answer in answers)

    @api.depends("man_class")
    def _compute_man_action(self):
        actions = self._man_actions()
        for lead in self:
            lead.man_action = actions.get(lead.man_class or "not_assessed")

    def _man_actions(self):
        """Recommended action per MAN class (funnel method, section 4)."""
        return {
            "yyy": self.env._("Qualified prospect, the ideal target: run the full sales process."),
            "yyn": self.env._("Contact: skilled selling can create the need."),
            "yny": self.env._("Contact, and find the person who holds the authority."),
            "nyy": self.env._("Contact: check business and credit, offer financing."),
            "nny": self.env._("Contact: cultivate long-term until the missing conditions appear."),
            "nyn": self.env._("Contact: cultivate long-term."),
            "ynn": self.env._("Contact: cultivate long-term."),
            "nnn": self.env._("Not a customer: stop contact and disqualify."),
            "not_assessed": self.env._("Answer Money, Authority and Need to get the recommended action."),
        }

    @api.depends("expected_revenue", "date_deadline", "priority_tier_override", "company_id")
    def _compute_priority_tier(self):
        """Tier from the thresholds of the lead's company (`_funnel_tier_company`)
        and today's date.

        Thresholds and the passing of days change tiers too: the company's
        `write` and a daily cron apply them in SQL (`_funnel_refresh_values`),
        which computes the same matrix for whole tables at once.
        """
        today = fields.Date.context_today(self)
        default_company = None  # read only for a lead without a company: most have one
        for lead in self:
            if lead.priority_tier_override:
                lead.priority_tier = lead.priority_tier_override
                continue
            company = lead.company_id
            if not company:
                default_company = default_company or self._funnel_tier_company()
                company = default_company
            big = (lead.expected_revenue or 0.0) >= company.funnel_tier_big_amount
            short = bool(lead.date_deadline) and (
                lead.date_deadline <= today + timedelta(days=company.funnel_tier_short_days)
            )
            lead.priority_tier = TIER_MATRIX[big, short]

    @api.model
    def _funnel_tier_company(self):
        """The company whose thresholds tier the leads without a company:
        the main company (the first one), whoever computes them, so that a
        lead's tier does not depend on who looks at it or runs the cron."""
        return self.env["res.company"].sudo().search([], order="id", limit=1)

    @api.depends("priority_tier")
    def _compute_priority_tier_action(self):
        actions = {
            "a": self.env._("All-out: run the full sales process."),
            "b": self.env._("Limit the time invested; maintain the relationship."),
            "c": self.env._("Watch for changes; maintain the relationship."),
            "d": self.env._("Consider last; maintain the relationship."),
        }
        for lead in self:
            lead.priority_tier_action = actions.get(lead.priority_tier, False)

    @api.depends("stage_id", "team_id", "man_need", "man_authority", "activity_ids")
    def _compute_funnel_gate_status(self):
        steps = self.env["sales.funnel.step"].search([])
        for lead in self:
            lead.funnel_gate_status = False
            if not lead.team_id.use_funnel_gates:
                continue
            current = lead.stage_id.funnel_step_id.sequence or 0
            next_step = steps.filtered(lambda step, current=current: step.sequence > current)[:1]
            missing = (
                lead._funnel_missing_gates(next_step, leaving=lead.stage_id.funnel_step_id)
                if next_step
                else []
            )
            if missing:
                lead.funnel_gate_status = self.env._(
                    "To enter “%(step)s”: %(missing)s.", step=next_step.name, missing=", ".join(missing)
                )

    # ------------------------------------------------------------ referrals

    @api.onchange("referred")
    def _onchange_referred_funnel_customer(self):
        """crm's free-text Referred By names a customer: the referring customer."""
        if self.referred and not self.funnel_referred_by_id:
            self.funnel_referred_by_id = self._funnel_referring_customers([self.referred]).get(self.referred)

    @api.model
    def _funnel_referring_customers(self, names):
        """{name as typed: the one contact of that name (any case), when
        there is exactly one}, in one query however many names."""
        keys = {name: name.strip().lower() for name in names}
        # =ilike: any case, no wildcard of the typed text
        literals = {
            key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for key in keys.values()
        }
        partners = self.env["res.partner"].search(
            Domain.OR(Domain("name", "=ilike", literal) for literal in literals)
        )
        by_key = partners.grouped(lambda partner: partner.name.strip().lower())
        return {name: by_key[key] for name, key in keys.items() if len(by_key.get(key, ())) == 1}

    # ------------------------------------------------------------ key steps

    @api.depends("stage_id", "activity_ids")
    def _compute_funnel_key_steps(self):
        done, planned = self._funnel_key_step_activities(self.stage_id.funnel_step_id.activity_plan_id)
        for lead in self:
            types = lead.stage_id.funnel_step_id.activity_plan_id.template_ids.activity_type_id
            lead.funnel_key_steps_total = len(types)
            # by the saved record's id: the form's onchange computes on a new record
            lead.funnel_key_steps_done = len(types & done.get(lead._origin.id, types.browse()))
            lead.funnel_key_steps_planned = bool(types & planned.get(lead._origin.id, types.browse()))

    def _funnel_key_step_activities(self, plans):
        """({lead id: activity types done}, {lead id: activity types
        scheduled, done or not}) among the key steps of `plans`: one query."""
        types = plans.template_ids.activity_type_id
        done, planned = {}, {}
        lead_ids = [lead_id for lead_id in self._origin.ids if lead_id]
        if not types or not lead_ids:
            return done, planned
        # counted, not shown: the leads are the user's to read, their activities may be another's
        groups = (
            self.env["mail.activity"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", lead_ids),
                    ("activity_type_id", "in", types.ids),
                ],
                ["res_id", "activity_type_id", "active"],
            )
        )
        empty = types.browse()
        for lead_id, activity_type, active in groups:
            planned[lead_id] = planned.get(lead_id, empty) | activity_type
            if not active:
                done[lead_id] = done.get(lead_id, empty) | activity_type
        return done, planned

    def _funnel_missing_key_steps(self, leaving):
        """Names of the key steps of the step the lead is `leaving` that it
        has not done: the gate of a later step that requires them (the step
        it is in is the one whose key steps it was proposed)."""
        self.ensure_one()
        types = leaving.activity_plan_id.template_ids.activity_type_id
        done = self._funnel_key_step_activities(leaving.activity_plan_id)[0].get(
            self._origin.id, types.browse()
        )
        return (types - done).mapped("name")

    # ------------------------------------------------------------ scheduling

    def action_funnel_plan_key_steps(self):
        """The key steps proposed on the form: scheduled in one click."""
        self._funnel_schedule_key_steps()

    def _funnel_schedule_key_steps(self):
        """Schedule the key-step plan of each lead's current step, through
        Odoo's plan launcher (one launch per plan, assignee and company), for
        the lead's salesperson, in their language; leads that have this
        plan's activities already (a step entered again) keep them."""
        leads = self.filtered(lambda lead: lead.stage_id.funnel_step_id.activity_plan_id and lead.active)
        leads = leads.filtered(lambda lead: not lead.funnel_key_steps_planned)
        today = fields.Date.context_today(self)
        # the salesperson, else the team's leader, else whoever does it when an
        # employee (not the public user of a web form, not a portal user)
        anyone = self.env.user if self.env.user._is_internal() else self.env.user.browse()

        def plan_user_company(lead):
            user = lead.user_id or lead.team_id.user_id or anyone
            return lead.stage_id.funnel_step_id.activity_plan_id, user, lead.company_id

        for (plan, user, _company), group in leads.grouped(plan_user_company).items():
            if not user:
                continue
            self.env["mail.activity.schedule"].with_context(lang=user.lang).create(
                {
                    "res_model": self._name,
                    "res_ids": str(group.ids),
                    "plan_id": plan.id,
                    "plan_on_demand_user_id": user.id,
                    "plan_date": today,
                }
            ).action_schedule_plan()

    def _funnel_entered_step(self, steps_before):
        """The leads entered another step (`steps_before`: {lead id: step
        before}): schedule its key steps where their team says so."""
        entered = self.filtered(
            lambda lead: (
                lead.team_id.funnel_key_step_mode == "schedule"
                and lead.stage_id.funnel_step_id
                and lead.stage_id.funnel_step_id != steps_before.get(lead.id)
            )
        )
        entered._funnel_schedule_key_steps()

    # ------------------------------------------------------------ stage gates

    def _funnel_missing_gates(self, step, vals=None, leaving=None):
        """Human-readable list of the gates of `step` this lead does not meet
        (with the answers of `vals` when given: those of a write under way).
        The key steps are those of the step it is `leaving`: a lead created
        in a step, or won, leaves none."""
        self.ensure_one()
        vals = vals or {}
        missing = []
        if step.requires_need and vals.get("man_need", self.man_need) != "yes":
            missing.append(self.env._("Need is not confirmed"))
        if step.requires_authority and vals.get("man_authority", self.man_authority) != "yes":
            missing.append(self.env._("Authority is not identified"))
        if step.requires_key_steps and leaving:
            missing += [
                self.env._("key step “%(key_step)s” is not done", key_step=name)
                for name in self._funnel_missing_key_steps(leaving)
            ]
        return missing

    def _funnel_gate_refusal(self, from_stage, to_stage, vals=None):
        """Why the lead may not move from `from_stage` to `to_stage`, or False
        (`vals`: the values of a write under way, answers and team).

        One policy for every path (create, write, import, team change,
        merge, the form's onchange): a forward entry into a gated step is
        refused while the lead misses what the step requires, on teams that
        enforce gates. Moving back or within a step is always allowed
        (funnel method, section 1: an opportunity that misses a goal stays
        or goes back), and so is winning: a signed deal is a fact, and a win
        past unmet gates is shown by the funnel health instead.
        """
        self.ensure_one()
        # what decides most moves is cached: a move that no gate concerns reads nothing
        stages = self.env["crm.stage"]._funnel_stage_map()
        positions = self.env["sales.funnel.step"]._funnel_positions()
        to_step, to_won = stages.get(to_stage.id, (None, False))
        from_step = stages.get(from_stage.id, (None, False))[0]
        if not to_step or to_won or not positions[to_step][2]:
            return False
        if positions[to_step][0] <= positions.get(from_step, (0,))[0]:
            return False
        team = self.team_id.browse(vals["team_id"]) if vals and "team_id" in vals else self.team_id
        if not team.use_funnel_gates:
            return False
        step = self.env["sales.funnel.step"].browse(to_step)
        missing = self._funnel_missing_gates(step, vals, leaving=step.browse(from_step or []))
        if not missing:
            return False
        return self.env._(
            "“%(lead)s” cannot move forward to “%(stage)s” (funnel step “%(step)s”): "
            "%(missing)s. Update its MAN qualification in the Funnel tab, or mark its current step's key "
            "steps done, first.",
            lead=self.name,
            stage=to_stage.name,
            step=step.name,
            missing=", ".join(missing),
        )

    def _funnel_gates_unmet_at_win(self):
        """Whether the lead, won now, misses what a gated step asks for (its
        MAN answers: a win leaves no step for the next one), on a team that
        enforces gates."""
        self.ensure_one()
        if not self.team_id.use_funnel_gates:
            return False
        steps = self.env["sales.funnel.step"].search([]).filtered(lambda step: step._funnel_is_gated())
        return any(self._funnel_missing_gates(step) for step in steps)

    @api.onchange("stage_id")
    def _onchange_stage_id_funnel_gate(self):
        """The form says why before saving, and puts the stage back."""
        previous = self._origin.stage_id
        if not previous or self.stage_id == previous:
            return None
        refusal = self._funnel_gate_refusal(previous, self.stage_id)
        if not refusal:
            return None
        self.stage_id = previous
        return {"warning": {"title": self.env._("Stage gate"), "message": refusal}}

    # ------------------------------------------------------------ probability

    def _compute_probabilities(self):  # pylint: disable=missing-return
        """Teams in stage-weight mode take the stage's weight instead of
        Odoo's predictive probability; a manual probability is kept (crm's
        rule) until the next stage change (see `write`)."""
        by_weight = self.filtered(lambda lead: lead.team_id.funnel_probability_mode == "stage_weight")
        if self - by_weight:
            super(CrmLead, self - by_weight)._compute_probabilities()
        for lead in by_weight:
            was_automated = lead.active and lead.is_automated_probability
            lead.automated_probability = lead.stage_id.funnel_weight
            if was_automated:
                lead.probability = lead.automated_probability

    def _pls_get_naive_bayes_probabilities(self, batch_mode=False, is_tooltip=False):
        """crm's nightly cron rewrites probabilities in SQL from this method:
        give it the stage weights of the leads of stage-weight teams."""
        by_weight = self.filtered(lambda lead: lead.team_id.funnel_probability_mode == "stage_weight")
        if is_tooltip or not by_weight:
            return super()._pls_get_naive_bayes_probabilities(batch_mode=batch_mode, is_tooltip=is_tooltip)
        probabilities, tooltip = {}, {}
        if self - by_weight:
            # crm answers a bare dict when it finds nothing to score
            result = super(CrmLead, self - by_weight)._pls_get_naive_bayes_probabilities(
                batch_mode=batch_mode
            )
            probabilities, tooltip = result if isinstance(result, tuple) else (result, {})
        probabilities.update({lead.id: lead.stage_id.funnel_weight for lead in by_weight})
        return probabilities, tooltip

    def _funnel_follows_stage_weight(self):
        """The open leads of stage-weight teams, whose probability is their stage's weight."""
        return self.filtered(
            lambda lead: (
                lead.team_id.funnel_probability_mode == "stage_weight"
                and lead.active
                and lead.won_status == "pending"
            )
        )

    def _funnel_apply_stage_weights(self):
        """Set probability = stage weight on the open leads of stage-weight teams."""
        leads = self._funnel_follows_stage_weight()
        by_weight = defaultdict(lambda: self.browse())
        for lead in leads:
            by_weight[lead.stage_id.funnel_weight] |= lead
        for weight, group in by_weight.items():
            group.write({"probability": weight, "automated_probability": weight})

    def _funnel_weight_in_same_write(self, vals, stage):
        """Whether every lead takes the new stage's weight as its probability
        (`_funnel_apply_stage_weights` after the write would) with nothing
        else of this write changing who follows the weights."""
        return (
            not stage.is_won
            and not ({"team_id", "active", "won_status", "type", "lost_reason_id"} & vals.keys())
            and self._funnel_follows_stage_weight() == self
        )

    @api.model
    def _funnel_on_stage_weight_change(self, stages, old_weights):
        """Stages changed weight: refresh weighted revenues in SQL, and move
        the probabilities that followed the old weight to the new one."""
        self._funnel_refresh_values(SQL("lead.stage_id IN %s", tuple(stages.ids)))
        leads = self.search(
            [
                ("stage_id", "in", stages.ids),
                ("team_id.funnel_probability_mode", "=", "stage_weight"),
                ("won_status", "=", "pending"),
            ]
        )
        following = leads.filtered(lambda lead: lead.probability == old_weights.get(lead.stage_id.id))
        following._funnel_apply_stage_weights()
        # manual probabilities are kept; one write per stage, not per lead
        for stage, manual in (leads - following).grouped("stage_id").items():
            manual.automated_probability = stage.funnel_weight

    # ------------------------------------------------------------ stage history

    # Values whose write may change the lead's stage, status or funnel
    # summary: written with a `funnel_event_date` in the context, they are
    # flushed at once, so that their moves take that date (see `write`).
    FUNNEL_OBSERVED_VALUES = frozenset(
        {"stage_id", "team_id", "user_id", "active", "probability", "type", "company_id", "partner_id",
         "expected_revenue"}
    )  # fmt: skip

    def _create(self, data_list):
        leads = super()._create(data_list)
        self.env["sales.funnel.history"]._observe_created(leads, [data["stored"] for data in data_list])
        return leads

    def _write_multi(self, vals_list):  # pylint: disable=missing-return
        # Where the ORM writes crm_lead: every path that changes a stage ends here.
        History = self.env["sales.funnel.history"]
        before = History._states_before(self, vals_list)
        super()._write_multi(vals_list)
        History._observe(self, before, vals_list)

    # ------------------------------------------------------------ ORM

    @api.model_create_multi
    def create(self, vals_list):
        # an import, a web form: crm's Referred By names the customer
        unnamed = [
            vals for vals in vals_list if vals.get("referred") and not vals.get("funnel_referred_by_id")
        ]
        customers = (
            self._funnel_referring_customers([vals["referred"] for vals in unnamed]) if unnamed else {}
        )
        for vals in unnamed:
            vals["funnel_referred_by_id"] = customers.get(vals["referred"], self.env["res.partner"]).id
        leads = super().create(vals_list)
        if "funnel_event_date" in self.env.context:
            leads.flush_recordset()  # recorded while the context gives the date
        leads._funnel_entered_step({})
        return leads

    def write(self, vals):
        moved = self.browse()
        if vals.get("stage_id"):
            stage = self.env["crm.stage"].browse(vals["stage_id"])
            moved = self.filtered(lambda lead: lead.stage_id != stage)
            # Refused at once, with the answers of this write; moves that
            # crm computes (team change...) are checked where they are
            # written (`sales.funnel.history._observe`).
            for lead in moved:
                refusal = lead._funnel_gate_refusal(lead.stage_id, stage, vals)
                if refusal:
                    raise UserError(refusal)
            self.env["sales.funnel.history"]._note_states(self)
            steps_before = {lead.id: lead.stage_id.funnel_step_id for lead in moved}
            if moved == self and "probability" not in vals and self._funnel_weight_in_same_write(vals, stage):
                # a drag on the kanban: the weight goes with the stage, in one write
                vals = dict(vals, probability=stage.funnel_weight, automated_probability=stage.funnel_weight)
        result = super().write(vals)
        if moved and "probability" not in vals:
            # a stage change resets a manual probability to the stage weight
            moved._funnel_apply_stage_weights()
        if "stage_id" in vals or (
            "funnel_event_date" in self.env.context and self.FUNNEL_OBSERVED_VALUES & vals.keys()
        ):
            # A stage set by hand is a move of its own, recorded with the
            # values of this moment, even when another follows in the same
            # transaction; and moves are recorded while the context gives
            # their date. Other changes are recorded as they reach the
            # database.
            self.flush_recordset()
        if moved:
            moved._funnel_entered_step(steps_before)
        return result

    # ------------------------------------------------------------ actions

    @api.readonly
    def action_funnel_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_stages.sales_funnel_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_funnel_disqualify(self):
        """m+a+n: not a customer. Mark lost with the dedicated reason."""
        not_disqualified = self.filtered(lambda lead: lead.man_class != "nnn")
        if not_disqualified:
            raise UserError(
                self.env._(
                    "Only opportunities of MAN class m+a+n (no money, no authority, no need) can be "
                    "disqualified; “%(lead)s” is %(man_class)s.",
                    lead=not_disqualified[0].name,
                    man_class=dict(self._fields["man_class"]._description_selection(self.env)).get(
                        not_disqualified[0].man_class
                    ),
                )
            )
        reason = self.env.ref("sales_funnel_stages.crm_lost_reason_man_disqualified")
        return self.action_set_lost(lost_reason_id=reason.id)

    def _merge_dependences(self, opportunities):
        self.env["sales.funnel.build"]._before_merge(self | opportunities)
        return super()._merge_dependences(opportunities)

    # ------------------------------------------------------------ SQL refresh

    @api.model
    def _funnel_refresh_values(self, where=None):
        """Recompute weighted revenue and tier of many leads in one UPDATE.

        Used at install (one pass over crm_lead instead of one ORM recompute
        per field), when stage weights or tier thresholds change, and daily
        for tiers that the passing of days moves. The expressions are those
        of `_compute_weighted_revenue` and `_compute_priority_tier`.
        """
        for model in ("crm.lead", "crm.stage", "res.company", "res.currency"):
            self.env[model].flush_model()
        today = fields.Date.context_today(self)
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead AS target
                   SET weighted_revenue = fresh.weighted_revenue,
                       priority_tier = fresh.priority_tier
                  FROM (
                SELECT lead.id,
                       CASE WHEN lead.won_status = 'lost' THEN 0
                            ELSE ROUND(COALESCE(lead.expected_revenue, 0) * COALESCE(stage.funnel_weight, 0)
                                       / 100.0, currency.decimal_places)
                       END AS weighted_revenue,
                       COALESCE(lead.priority_tier_override,
                                CASE WHEN axes.big AND axes.short THEN 'a' WHEN axes.short THEN 'b'
                                     WHEN axes.big THEN 'c' ELSE 'd' END) AS priority_tier
                  FROM crm_lead AS lead
                  LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
                  JOIN res_company AS company ON company.id = COALESCE(lead.company_id, %(company)s)
                  JOIN res_currency AS currency ON currency.id = company.currency_id
                 CROSS JOIN LATERAL (
                       SELECT COALESCE(lead.expected_revenue, 0) >= company.funnel_tier_big_amount AS big,
                              COALESCE(lead.date_deadline <= %(today)s::date + company.funnel_tier_short_days,
                                       FALSE) AS short
                       ) AS axes
                 WHERE %(where)s
                       ) AS fresh
                 WHERE fresh.id = target.id
                   AND (target.weighted_revenue, target.priority_tier)
                       IS DISTINCT FROM (fresh.weighted_revenue, fresh.priority_tier)
                """,
                company=self._funnel_tier_company().id,
                today=today,
                where=where or SQL("TRUE"),
            )
        )
        self.invalidate_model(["weighted_revenue", "priority_tier"])
        self.env["sales.funnel.lead.step"]._refresh_weights(where)

    @api.model
    def _cron_refresh_priority_tiers(self):
        """Daily: tiers move from long to short as expected closing dates near."""
        self._funnel_refresh_values(SQL("lead.active AND lead.date_deadline IS NOT NULL"))

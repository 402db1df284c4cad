"""Randomized replay: users' operations against the test's own account of them.

The test performs random operations as users would (create, move, change
team or salesperson, convert, win, reopen, lose, restore, archive, merge,
import, remap a stage, revise the amount or the expected closing), dated one
after the other, and keeps its own list of the moves: after each operation,
every lead whose stage or won/lost status differs from before is a move,
with the lead's amount and expected closing then. It then checks, against
its own computation: the history row for row (with the values of each
lead's previous move), the slippage report, the per-lead summary (as kept
live, and as rebuilt from scratch), and the funnel report's counts.

The seed is logged and named in every failure; set FUNNEL_REPLAY_SEED to
replay one, FUNNEL_REPLAY_OPERATIONS for a longer run.
"""

import logging
import os
import random
from collections import Counter
from contextlib import nullcontext
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..models.sales_funnel_history import HISTORY_KINDS
from .common import use_step_weights

_logger = logging.getLogger(__name__)

SEED = int(os.environ.get("FUNNEL_REPLAY_SEED", "20261207"))
OPERATIONS = int(os.environ.get("FUNNEL_REPLAY_OPERATIONS", "400"))


class HistoryReplayCase(TransactionCase):
    """Two companies and teams, a stage per step and a second one in needs
    analysis; users' operations and the test's own account of their moves."""

    tracked = False  # whether crm tracks the operations (mail messages)
    installed_at = None  # moves up to this instant are rebuilt from crm's tracking
    # operations the users perform, with their weights
    OPERATIONS = {
        "_op_create": 6,
        "_op_move": 14,
        "_op_change_team": 3,
        "_op_change_salesperson": 3,
        "_op_convert": 2,
        "_op_win": 3,
        "_op_reopen": 2,
        "_op_lose": 3,
        "_op_restore": 2,
        "_op_archive": 2,
        "_op_merge": 1,
        "_op_import": 2,
        "_op_remap": 1,
        "_op_reorder": 1,
        "_op_revise": 5,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.steps = cls.env["sales.funnel.step"].search([])
        use_step_weights(cls.env)
        # two steps of equal weight, so that the replay may reorder them
        cls.reordered = cls.steps.filtered(lambda step: step.code in ("solution", "proposal"))
        cls.reordered[0].weight = cls.reordered[1].weight
        company_a = cls.env.company
        currency_b = (
            cls.env["res.currency"]
            .with_context(active_test=False)
            .search([("id", "!=", company_a.currency_id.id), ("name", "in", ["EUR", "CNY", "USD"])], limit=1)
        )
        currency_b.active = True
        company_b = cls.env["res.company"].create({"name": "Replay B", "currency_id": currency_b.id})
        companies = company_a | company_b
        cls.users = [
            new_test_user(
                cls.env, f"replay_user_{number}", groups="sales_team.group_sale_salesman_all_leads",
                company_id=company_a.id, company_ids=companies.ids,
            )
            for number in range(2)
        ]  # fmt: skip
        cls.teams = cls.env["crm.team"]
        for number, company in enumerate(companies):
            team = cls.env["crm.team"].create(
                {
                    "name": f"Replay team {number}",
                    "company_id": company.id,
                    "funnel_probability_mode": "stage_weight",
                    "use_funnel_gates": False,
                    "member_ids": [(6, 0, [cls.users[number].id])],
                }
            )
            cls.teams |= team
            for step in cls.steps:
                cls.env["crm.stage"].create(
                    {
                        "name": f"T{number} {step.code}",
                        "sequence": step.sequence,
                        "team_ids": [(6, 0, team.ids)],
                        "funnel_step_id": step.id,
                        "is_won": step.code == "after_sales",
                    }
                )
            # a second stage of the same step: moves within a step
            cls.env["crm.stage"].create(
                {"name": f"T{number} needs bis", "sequence": 2, "team_ids": [(6, 0, team.ids)],
                 "funnel_step_id": cls.steps[1].id}
            )  # fmt: skip

    def _start_replay(self):
        self.rng = random.Random(SEED)
        self.clock = datetime(2025, 1, 6, 9, 0)
        self.moves = {}  # lead id -> [(date, "move" | "lost" | "restored", from stage id, to stage id)]
        self.values = {}  # lead id -> [(amount, expected closing)] after each of its moves
        self.leads = self.env["crm.lead"]
        self.tally = Counter()

    def _replay(self, count, operations=None):
        """Perform `count` random operations (names and weights of
        `operations`, by default all of them)."""
        operations = operations or self.OPERATIONS
        names, weights = list(operations), list(operations.values())
        for _number in range(count):
            self._perform(getattr(self, self.rng.choices(names, weights)[0]))

    def _check_all(self):
        """History row for row, summary (live and rebuilt) and report."""
        kinds = Counter(self._kind(*move[1:]) for moves in self.moves.values() for move in moves)
        _logger.info(
            "history replay: operations %s; moves %s", sorted(self.tally.items()), sorted(kinds.items())
        )
        self.assertGreater(len(self.moves), 20, self._seed())
        self.assertTrue(all(kinds[kind] >= 3 for kind, _label in HISTORY_KINDS), self._seed())
        self._check_history()
        self._check_slippage_columns()
        self._check_slippage()
        live = self._summary()
        self.assertEqual(live, self._expected_summary(), f"live summary, {self._seed()}")
        self.env["sales.funnel.lead.step"]._rebuild()
        self.assertEqual(self._summary(), live, f"rebuilt summary differs from the live one, {self._seed()}")
        self._check_report(self._expected_summary())

    def _seed(self):
        return f"seed {SEED} (FUNNEL_REPLAY_SEED={SEED} to replay)"

    def _perform(self, operation):
        """Run `operation` at the next instant and note the moves it made."""
        self.clock += timedelta(hours=self.rng.randint(1, 60), minutes=self.rng.randint(0, 59))
        env = self.env(
            context=dict(self.env.context, funnel_event_date=self.clock, tracking_disable=not self.tracked)
        )
        before = self._states()
        outcome = "done"
        try:
            # crm dates its tracking messages with the clock
            with self.env.cr.savepoint(), freeze_time(self.clock) if self.tracked else nullcontext():
                operation(env)
                self.env.flush_all()
                if self.tracked:  # crm writes its tracking at commit
                    self.env.cr.precommit.run()
        except (UserError, ValidationError):
            # refused as a request would be: nothing of it is kept
            self.env.invalidate_all()
            outcome = "refused"
        after = self._states()
        amounts = self._amounts()
        self.tally[operation.__name__, outcome] += 1
        for lead_id in before.keys() - after.keys():  # merged away: its moves went with it
            self.moves.pop(lead_id, None)
            self.values.pop(lead_id, None)
        for lead_id, (stage, status) in after.items():
            old_stage, old_status = before.get(lead_id, (None, None))
            moves = self.moves.setdefault(lead_id, [])
            values = self.values.setdefault(lead_id, [])
            if old_status == "lost" and status != "lost":
                moves.append((self.clock, "restored", old_stage, old_stage))
            if stage and stage != old_stage:
                moves.append((self.clock, "move", old_stage, stage))
            if old_status != "lost" and status == "lost":
                moves.append((self.clock, "lost", stage, stage))
            # the lead's amount and expected closing as its new moves recorded them
            values += [amounts[lead_id]] * (len(moves) - len(values))

    def _amounts(self):
        leads = self.leads.with_context(active_test=False).exists()
        return {lead["id"]: (lead["expected_revenue"], lead["date_deadline"] or None)
                for lead in leads.read(["expected_revenue", "date_deadline"])}  # fmt: skip

    def _states(self):
        leads = self.leads.with_context(active_test=False).exists()
        return {lead["id"]: (lead["stage_id"][0] if lead["stage_id"] else None, lead["won_status"])
                for lead in leads.read(["stage_id", "won_status"])}  # fmt: skip

    # ------------------------------------------------------------ operations

    def _pick(self, domain=None):
        leads = self.leads.with_context(active_test=False).exists().filtered_domain(domain or [])
        return self.rng.choice(leads) if leads else None

    def _stages(self, team):
        return self.env["crm.stage"]._funnel_pipeline(team)

    def _op_create(self, env):
        team = self.rng.choice(self.teams)
        self.leads |= env["crm.lead"].create(
            {
                "name": f"Replay {len(self.leads)}",
                "type": self.rng.choice(["lead", "opportunity", "opportunity"]),
                "team_id": team.id,
                "user_id": self.rng.choice(team.member_ids).id,
                "stage_id": self.rng.choice(self._stages(team)).id,
                "expected_revenue": self.rng.randrange(1000, 90000, 500),
                "date_deadline": self.clock.date() + timedelta(days=self.rng.randint(10, 90)),
            }
        )

    def _op_revise(self, env):
        """A salesperson revises the amount or the expected closing, or both
        (a closing pushed out, or brought forward, or cleared)."""
        lead = self._pick([("active", "=", True)])
        if not lead:
            return
        values = {}
        if self.rng.random() < 0.6:
            values["expected_revenue"] = self.rng.randrange(1000, 90000, 500)
        if self.rng.random() < 0.6:
            start = lead.date_deadline or self.clock.date()
            values["date_deadline"] = self.rng.choice(
                [start + timedelta(days=self.rng.randint(-20, 60)), start + timedelta(days=30), False]
            )
        lead.with_env(env).write(values)

    def _op_move(self, env):
        lead = self._pick([("active", "=", True)])
        if lead:
            lead.with_env(env).stage_id = self.rng.choice(self._stages(lead.team_id))

    def _op_change_team(self, env):
        lead = self._pick([("active", "=", True)])
        if lead:
            lead.with_env(env).team_id = self.rng.choice(self.teams)

    def _op_change_salesperson(self, env):
        lead = self._pick([("active", "=", True)])
        if lead:
            lead.with_env(env).user_id = self.rng.choice(self.users)

    def _op_convert(self, env):
        lead = self._pick([("type", "=", "lead"), ("active", "=", True)])
        if lead:
            lead.with_env(env).convert_opportunity(self.env["res.partner"])

    def _op_win(self, env):
        lead = self._pick([("won_status", "!=", "won")])
        if lead:
            lead.with_env(env).action_set_won()

    def _op_reopen(self, env):
        lead = self._pick([("won_status", "=", "won")])
        if lead:
            lead.with_env(env).stage_id = self.rng.choice(
                self._stages(lead.team_id).filtered(lambda s: not s.is_won)
            )

    def _op_lose(self, env):
        lead = self._pick([("won_status", "=", "pending")])  # crm refuses to lose a won lead
        if lead:
            lead.with_env(env).action_set_lost()

    def _op_restore(self, env):
        lead = self._pick([("won_status", "=", "lost")])
        if lead:
            lead.with_env(env).action_restore()

    def _op_archive(self, env):
        lead = self._pick([("won_status", "=", "pending")])
        if lead:
            lead.with_env(env).action_archive() if lead.active else lead.with_env(env).action_unarchive()

    def _op_merge(self, env):
        lead = self._pick([("active", "=", True), ("type", "=", "opportunity")])
        others = lead and self.leads.exists().filtered(
            lambda other: other != lead and other.active and other.type == "opportunity"
            and other.team_id == lead.team_id and other.company_id == lead.company_id == lead.team_id.company_id
        )  # fmt: skip
        if others:
            (lead | self.rng.choice(others)).with_env(env).merge_opportunity(auto_unlink=True)

    def _op_import(self, env):
        Lead = env["crm.lead"]
        lead = self._pick([("active", "=", True)])
        if lead and self.rng.random() < 0.5:
            stage = self.rng.choice(self._stages(lead.team_id))
            result = Lead.load([".id", "stage_id/.id"], [[str(lead.id), str(stage.id)]])
        else:
            team = self.rng.choice(self.teams)
            stage = self.rng.choice(self._stages(team))
            result = Lead.load(
                ["name", "type", "team_id/.id", "user_id/.id", "stage_id/.id"],
                [[f"Imported {len(self.leads)}", "opportunity", str(team.id), str(team.member_ids[:1].id),
                  str(stage.id)]],
            )  # fmt: skip
            self.leads |= Lead.browse(result["ids"])
        self.assertFalse(result["messages"], self._seed())

    def _op_remap(self, env):
        """Map a stage onto a neighbouring step, when the pipeline's weights allow it."""
        stage = self.rng.choice(
            self.env["crm.stage"].search([("team_ids", "in", self.teams.ids), ("is_won", "=", False)])
        )
        steps = self._ordered_steps()
        position = list(steps).index(stage.funnel_step_id)
        target = steps[max(0, min(position + self.rng.choice([-1, 1]), len(steps) - 2))]
        stage.with_env(env).funnel_step_id = target  # refused when weights would decrease

    def _op_reorder(self, env):
        """Swap two steps in the funnel's order: every move is named, and
        every summary built, by the new order."""
        first, second = self.reordered.with_env(env)
        first.sequence, second.sequence = second.sequence, first.sequence

    # ------------------------------------------------------------ expectations

    def _ordered_steps(self):
        return self.env["sales.funnel.step"].search([])

    def _position(self, stage_id):
        step = self.env["crm.stage"].browse(stage_id).funnel_step_id
        return list(self._ordered_steps()).index(step) + 1 if step else 0

    def _is_won(self, stage_id):
        return bool(stage_id) and self.env["crm.stage"].browse(stage_id).is_won

    def _kind(self, moved, origin, target):
        if moved != "move":
            return moved
        if not origin:
            return "enter"
        before, after = self._position(origin), self._position(target)
        if self._is_won(target):
            return "won"
        if self._is_won(origin) or after < before:
            return "regress"
        if after == before:
            return "lateral"
        return "skip" if after > before + 1 else "advance"

    def _previous_values(self, lead_id):
        """Per move of the lead: (amount, expected closing) at the move, and
        at its previous move of an earlier instant (the moves of one flush
        share it; none before the first). Moves rebuilt from crm's tracking
        (up to `installed_at`) know neither: crm keeps no past amounts."""
        moves, values = self.moves[lead_id], self.values[lead_id]
        unknown = (None, None)
        live = [
            (date, value)
            for (date, *_move), value in zip(moves, values, strict=True)
            if not self.installed_at or date > self.installed_at
        ]
        result = []
        for (date, *_move), value in zip(moves, values, strict=True):
            if self.installed_at and date <= self.installed_at:
                result.append(((value[0], None), unknown))
                continue
            earlier = [known for when, known in live if when < date]
            result.append((value, earlier[-1] if earlier else unknown))
        return result

    def _check_slippage_columns(self):
        for lead_id in self.moves:
            self.env.cr.execute(
                """SELECT date_deadline, previous_expected_revenue, previous_date_deadline
                     FROM sales_funnel_history WHERE lead_id = %s ORDER BY date, id""",
                [lead_id],
            )
            self.assertEqual(
                self.env.cr.fetchall(),
                [
                    (deadline, previous[0], previous[1])
                    for (_amount, deadline), previous in self._previous_values(lead_id)
                ],
                f"closing and previous values of lead {lead_id}, {self._seed()}",
            )

    def _check_slippage(self):
        """The slippage report against the test's own account: per step the
        lead stayed in, the stays whose start the history saw, those whose
        expected closing moved later, those whose amount changed."""
        counted = Counter()
        for lead_id, moves in self.moves.items():
            for (_date, moved, origin, _target), (
                (amount, deadline),
                (before_amount, before_deadline),
            ) in zip(moves, self._previous_values(lead_id), strict=True):
                step = self.env["crm.stage"].browse(origin).funnel_step_id if origin else None
                # a restoration ends the time lost, no stay
                if not step or before_amount is None or moved == "restored":
                    continue
                counted[step.id, "stays"] += 1
                counted[step.id, "pushed"] += bool(
                    deadline and before_deadline and deadline > before_deadline
                )
                counted[step.id, "changed"] += amount != before_amount
        reported = Counter()
        for step, stays, pushed, changed in self.env["sales.funnel.slippage"]._read_group(
            [("lead_id", "in", list(self.moves))],
            ["step_id"],
            ["stay_count:sum", "pushed_count:sum", "amount_changed_count:sum"],
        ):
            reported[step.id, "stays"], reported[step.id, "pushed"], reported[step.id, "changed"] = (
                stays,
                pushed,
                changed,
            )
        self.assertEqual(+reported, +counted, f"slippage report, {self._seed()}")
        if not self.installed_at:  # a long live run: each kind of slippage happened
            totals = Counter(kind for (_step, kind), count in counted.items() for _time in range(count))
            self.assertTrue(totals["stays"] > totals["changed"] > 0 and totals["pushed"] > 0, self._seed())

    def _check_history(self):
        History = self.env["sales.funnel.history"]
        for lead_id, moves in self.moves.items():
            rows = History.search([("lead_id", "=", lead_id)]).sorted(lambda row: (row.date, row.id))
            self.assertEqual(
                [(row.date, row.kind, row.from_stage_id.id or None, row.to_stage_id.id or None,
                  row.to_step_id == row.to_stage_id.funnel_step_id) for row in rows],
                [(date, self._kind(moved, origin, target), origin, target, True)
                 for date, moved, origin, target in moves],
                f"history of lead {lead_id}, {self._seed()}",
            )  # fmt: skip

    def _expected_summary(self):
        """Per (lead, step), computed from the test's own moves: the lead is
        in a stage with a status after each move; the time between two
        moves counts for the step while the lead was open there (not won)."""
        expected = {}
        for lead_id, moves in self.moves.items():
            segments = []  # (start, stage, status) after each move
            stage, status, won_at = None, "open", False
            for date, moved, _origin, target in moves:
                if moved == "lost":
                    status = "lost"
                elif moved == "restored":  # in a won stage: won again
                    status = "won" if self._is_won(stage) else "open"
                else:
                    stage = target
                    status = "won" if self._is_won(target) else ("open" if status == "won" else status)
                if status == "won" and moved != "lost":  # the last move into a won stage, or restore there
                    won_at = date
                segments.append((date, stage, status))
            entries = [(index, self._position(target)) for index, (_d, moved, _o, target) in enumerate(moves)
                       if moved == "move" and self._position(target)]  # fmt: skip
            steps = {}
            for index, position in entries:
                steps.setdefault(position, index)
            final_date, final_stage, final_status = segments[-1]
            for position, first in steps.items():
                step = self._ordered_steps()[position - 1]
                days = sum(
                    (segments[index + 1][0] - start).total_seconds()
                    for index, (start, in_stage, in_status) in enumerate(segments[:-1])
                    if in_status == "open" and self._position(in_stage) == position
                    and not self._is_won(in_stage)
                ) / 86400.0  # fmt: skip
                here = self._position(final_stage) == position
                current = here and final_status == "open"
                regressed = any(
                    moved == "move" and origin and self._position(origin) == position
                    and (self._is_won(origin) or 0 < self._position(target) < position)
                    for _d, moved, origin, target in moves
                )  # fmt: skip
                expected[lead_id, step.id] = (
                    moves[first][0],
                    final_date if current else False,
                    round(days, 6),
                    current,
                    position == entries[0][1],
                    any(index > first and later > position for index, later in entries),
                    regressed,
                    here and final_status == "lost",
                    final_status == "won",
                    final_status == "open",
                    won_at if final_status == "won" else False,
                )
        return expected

    SUMMARY_FIELDS = [
        "date_entered", "date_last_entered", "days_closed", "is_current", "is_first", "advanced", "regressed",
        "lost", "won", "lead_open", "date_won",
    ]  # fmt: skip

    def _summary(self):
        rows = self.env["sales.funnel.lead.step"].search_read(
            [("lead_id", "in", list(self.moves))], ["lead_id", "step_id", *self.SUMMARY_FIELDS]
        )
        for row in rows:
            self.assertGreaterEqual(row["days_closed"], 0, f"negative stay, {self._seed()}")
        return {
            (row["lead_id"][0], row["step_id"][0]): tuple(
                round(row[name], 6) if name == "days_closed" else row[name] for name in self.SUMMARY_FIELDS
            )
            for row in rows
        }

    def _check_report(self, summary):
        """The report counts what the test counts: rows per step."""
        counted = {}
        for (_lead, step_id), values in summary.items():
            line = counted.setdefault(step_id, [0, 0, 0, 0, 0, 0])
            flags = dict(zip(self.SUMMARY_FIELDS, values, strict=True))
            for index, flag in enumerate((True, flags["advanced"], flags["is_current"], flags["lost"],
                                          flags["won"], flags["regressed"])):  # fmt: skip
                line[index] += bool(flag)
        funnel = self.env["sales.funnel.report"].get_funnel([("lead_id", "in", list(self.moves))])
        reported = {
            row["step_id"]: [row["entered_count"], row["advanced_count"], row["current_count"], row["lost_count"],
                             row["won_count"], row["regressed_count"]]
            for row in funnel if row["entered_count"]
        }  # fmt: skip
        self.assertEqual(reported, counted, f"funnel report, {self._seed()}")


@tagged("post_install", "-at_install")
class TestHistoryReplay(HistoryReplayCase):
    def test_replay(self):
        _logger.info("history replay: seed %s, %s operations", SEED, OPERATIONS)
        self._start_replay()
        self._replay(OPERATIONS)
        self._check_all()

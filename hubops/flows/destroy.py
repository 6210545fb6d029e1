"""Destroying a non-production environment: the guards, then plan, show, confirm, apply, record.

Production is never destroyed: its user directories would go with it. That rule rests on three
facts, each checked before anything is changed, and no flag or setting lifts it: the name, the
files (`supervised = true`), and the state itself (preflight's backend check refuses files that
contradict its identity marker, which says a supervised state is never destroyed, whatever
folder points at it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hubops.adapters.clock import now
from hubops.adapters.saved_plan import SavedPlan, new_plan_path
from hubops.facts.environments import PRODUCTION, Environment
from hubops.facts.errors import ConfirmationError
from hubops.facts.plan_summary import PlanSummary, summarize
from hubops.facts.run_record import DESTROY
from hubops.flows.run_frame import run_frame
from hubops.flows.runs import RunResult, run_record


def refuse_production(name: str) -> None:
    if name == PRODUCTION:
        raise ConfirmationError(
            f"{name} is production and is never destroyed (its user directories would go with "
            f"it); no flag or setting lifts this. Change it with `invoke apply --env {name}`."
        )


def refuse_supervised(env: Environment) -> None:
    if env.supervised:
        raise ConfirmationError(
            f"{env.name} is supervised ({env.vars_file.relative_to(env.path.parents[1])} sets "
            "supervised = true), and supervised environments are never destroyed."
        )


def guarded_destroy(
    root: Path,
    env: Environment,
    *,
    confirm: Callable[[PlanSummary], None],
    say: Callable[[str], None],
    lock_timeout: str = "0s",
) -> RunResult:
    """Destroy `env` after showing what goes; refused before anything starts for production."""
    refuse_production(env.name)
    refuse_supervised(env)
    with run_frame(root, env, "destroy") as frame:
        # Its backend check refuses a state marked supervised (never destroyed) or another's.
        checked = frame.preflight()
        tofu = checked.engine(lock_timeout=lock_timeout)
        result, started_at = RunResult(), now()
        plan_path = new_plan_path(root, env.name)
        found = {}  # what the record keeps: the plan, its sha256, whether the engine began

        def build():
            return run_record(env, DESTROY, checked.commit, started_at, **found)

        with frame.recorded(result, say, build, lambda: plan_path.unlink(missing_ok=True)):
            tofu.plan(plan_path, destroy=True)
            saved = SavedPlan.of(plan_path)
            summary = summarize(tofu.show_plan(saved.path))
            found.update(plan=summary, plan_sha256=saved.sha256)
            if not summary.has_changes:
                say(f"Nothing to destroy: the state of {env.name} holds no resources.")
            else:
                say(f"Destroying {env.name} will do this:\n{summary.render()}")
                confirm(summary)
                saved.verify()
                tofu.apply(saved.path, on_start=lambda: found.update(applied=True))
                say(f"{env.name} is destroyed. `invoke apply --env {env.name}` creates it again.")
        return result

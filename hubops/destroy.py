"""Destroying a non-production environment: the guards, then plan, show, apply.

Production is never destroyed: its user directories would go with it. That rule is by name and
by supervision, checked before anything else, and no flag or setting lifts it.
"""

from __future__ import annotations

from pathlib import Path

from hubops.changes import PRODUCTION
from hubops.environments import Environment
from hubops.errors import ConfirmationError
from hubops.plan_summary import PlanSummary, summarize
from hubops.preflight import preflight
from hubops.tofu import Tofu


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


def check_confirmation(name: str, typed: str) -> None:
    """`--confirm` must be exactly the environment's name."""
    if typed != name:
        raise ConfirmationError(
            f"--confirm {typed} does not equal {name}: pass --confirm {name} to destroy {name}. "
            "Nothing was destroyed."
        )


def plan_destroy(
    root: Path, env: Environment, *, lock_timeout: str = "0s"
) -> tuple[Tofu, PlanSummary]:
    """Preflight, init, and a saved destroy plan for `env`; nothing is changed yet."""
    refuse_production(env.name)
    refuse_supervised(env)
    tofu = Tofu(root, env, lock_timeout=lock_timeout)
    preflight(root, env)
    tofu.init()
    tofu.plan(destroy=True)
    return tofu, summarize(tofu.show_plan())

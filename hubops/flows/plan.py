"""The plan verb: a saved plan of an environment, summarised, and for review bound to its commit.

A preview (no `out`) may be made from uncommitted files; a plan for review only from exactly a
commit (preflight's byte-for-byte check), with its origin beside it and, with `keep`, a copy in
the state bucket (`hubops.flows.reviewed_plan`). It runs on the run frame (lock, preflight, the
engine) and records nothing: a plan changes nothing the records track.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hubops.adapters.saved_plan import SavedPlan
from hubops.facts.environments import Environment
from hubops.facts.forecast import Forecast, forecast
from hubops.facts.plan_summary import PlanSummary, summarize
from hubops.flows.reviewed_plan import origin_of, write_sidecar
from hubops.flows.reviewed_plan import upload as keep_in_bucket
from hubops.flows.run_frame import run_frame


@dataclass(frozen=True)
class PlanResult:
    saved: SavedPlan
    changes: bool
    summary: PlanSummary
    forecast: Forecast
    # For review only: the commit it was made at, and where the state bucket keeps it.
    commit: str | None = None
    kept_at: str | None = None


def make_plan(
    root: Path,
    env: Environment,
    path: Path,
    *,
    for_review: bool,
    keep: bool = False,
    lock_timeout: str = "0s",
    relay_to_stderr: bool = False,
) -> PlanResult:
    """Plan `env` to `path`; for review, also its origin beside it (and kept, with `keep`)."""
    with run_frame(root, env, "plan") as frame:
        # A plan for review is applied later as it is: only from exactly a commit.
        checked = frame.preflight(deploying=for_review)
        tofu = checked.engine(lock_timeout=lock_timeout, relay_to_stderr=relay_to_stderr)
        changes = tofu.plan(path)
        saved = SavedPlan.of(path)
        summary = summarize(tofu.show_plan(saved.path))
        kept_at = None
        if for_review:
            origin = origin_of(root, env, checked.commit, saved.sha256)
            write_sidecar(path, origin)
            kept_at = keep_in_bucket(env, path, origin) if keep else None
    return PlanResult(
        saved,
        changes,
        summary,
        forecast(summary),
        commit=checked.commit if for_review else None,
        kept_at=kept_at,
    )

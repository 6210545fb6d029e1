"""Drift: do the real objects still match the state, and does the hub's routing still hold?

A refresh-only plan (`tofu plan -refresh-only -detailed-exitcode`) asks the providers for every
object in the state and compares, changing nothing: the plan goes to a private file of this run
(`hubops.adapters.saved_plan.new_plan_path`) that is read with `tofu show -json` and removed, never
applied. What changed outside OpenTofu is the plan's `resource_drift` (an address and OpenTofu's
action: `update` for an object changed, `delete` for one gone); a root output the refresh would
change is listed as `output.NAME`. The exit code is no verdict: OpenTofu 1.10 exits 0 from a
refresh-only plan whatever it found (opentofu/opentofu#3107), and Terraform exits 2 for state
differences it does not show as drift. The routing check is dns-check's (`hubops.facts.routing`,
`hubops.facts.verdict`).

Outcomes, most urgent first: could not look (AWS could not be asked: nothing is known), routing
changed (set DNS by hand), failed (the refresh failed: drift unknown), drifted, ok.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hubops.facts.environments import Environment
from hubops.facts.errors import AwsError, TofuError
from hubops.facts.outcome import Outcome
from hubops.facts.verdict import Verdict


@dataclass(frozen=True)
class Drifted:
    """One object the refresh found changed outside OpenTofu."""

    address: str
    action: str  # OpenTofu's actions, joined with "+": "update", "delete"


@dataclass
class DriftReport:
    env_name: str
    drift: list[Drifted] | None = None  # None: not known (the refresh failed or never ran)
    refresh_error: str | None = None
    # The same, as a terminal that saw the engine's stderr come shows it.
    refresh_error_shown: str | None = None
    verdict: Verdict | None = None  # None: the routing was not checked
    # AWS could not be asked (credentials missing or expired, AWS out of reach).
    could_not_look: str | None = None
    # True when AWS could not be asked before anything else (preflight): nothing at all is known.
    looked_at_nothing: bool = False
    routing_lines: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.drift)

    @property
    def outcome(self) -> Outcome:
        if self.could_not_look:
            return Outcome.COULD_NOT_LOOK
        if self.verdict is not None and self.verdict.changed:
            return Outcome.ROUTING_CHANGED
        if self.refresh_error:
            return Outcome.FAILED
        if self.drifted:
            return Outcome.DRIFTED
        return Outcome.OK


def drifted_resources(plan: dict) -> list[Drifted]:
    """What a refresh-only plan's JSON says changed outside OpenTofu: `resource_drift` (moves
    without a change, `no-op`, are not drift), then root outputs the refresh would change."""
    found = []
    for entry in plan.get("resource_drift") or []:
        actions = (entry.get("change") or {}).get("actions") or []
        if actions and actions != ["no-op"]:
            found.append(Drifted(entry["address"], "+".join(actions)))
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        actions = (change or {}).get("actions") or []
        if actions and actions != ["no-op"]:
            found.append(Drifted(f"output.{name}", "+".join(actions)))
    return found


def check_drift(root: Path, env: Environment, *, lock_timeout: str = "0s") -> DriftReport:
    """Refresh-only plan, then the routing check; changes nothing. Raises `HubopsError` for a
    precondition that does not hold (tools, account, backend) or a failed `tofu init`."""
    from hubops.adapters.routing_probe import take_snapshot
    from hubops.adapters.saved_plan import new_plan_path
    from hubops.adapters.tofu import Interrupted
    from hubops.facts.verdict import check
    from hubops.flows.run_frame import run_frame

    report = DriftReport(env.name)
    with run_frame(root, env, "drift") as frame:
        try:
            checked = frame.preflight(deploying=False)
        except AwsError as exc:  # AWS could not be asked who we are: nothing can be known
            report.could_not_look = str(exc)
            report.looked_at_nothing = True
            return report
        tofu = checked.engine(lock_timeout=lock_timeout)
        path = new_plan_path(root, env.name)
        try:
            tofu.refresh_plan(path)  # its exit code is no verdict (above)
            report.drift = drifted_resources(tofu.show_plan(path))
        except Interrupted:
            raise
        except TofuError as exc:
            report.refresh_error = str(exc)
            report.refresh_error_shown = exc.brief
        finally:
            path.unlink(missing_ok=True)
        snapshot = take_snapshot(env, tofu)
    report.verdict = check(env, snapshot)
    report.routing_lines = report.verdict.lines(env)
    report.could_not_look = snapshot.lookup_error
    return report

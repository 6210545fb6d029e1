"""Applying a saved plan: progress in the human or the JSON UI, effects on AWS, the state."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime

from tests.fake_tofu.call import Call
from tests.fake_tofu.output import fake_id, hcl_value, out
from tests.fake_tofu.plans import counts, parse_address, provider_of
from tests.fake_tofu.state import State
from tests.fake_tofu.texts import FATAL_INTERRUPT, HOSTNAME_OUTPUT, INTERRUPTED, Failure, FakeError


class Apply:
    """Applying a saved plan: resource progress lines, effects on AWS, state, the summary."""

    def __init__(self, plan: dict, scenario: dict, state: State, call: Call):
        self.plan, self.scenario, self.state, self.call = plan, scenario, state, call
        self.effects = scenario.get("effects", [])
        self.effect_outputs: dict = {}
        self.changes = [c for c in plan["resource_changes"] if c["actions"] != ["no-op"]]
        self.elapsed = scenario.get("elapsed_seconds", {})
        self.ui = JsonUI.active

    def run(self) -> int:
        if self.ui:  # OpenTofu restates the saved plan's changes before applying them
            for change in self.changes:
                self.ui.planned_change(change)
        # `true` stands for "with the defaults".
        if self.scenario.get("interrupt") not in (None, False):
            return self.interrupted(self.settings("interrupt"))
        if self.scenario.get("fail") not in (None, False):
            failure = self.settings("fail")
            self.run_effects(failure.get("after_effects", len(self.effects)))
            failing = failure.get("address")
            for change in self.changes:
                self.progress(change, fails=change["address"] == failing)
            raise Failure(
                failure.get("summary", "the apply failed"),
                failure.get("detail", ""),
                address=failing,
            )
        self.run_effects(len(self.effects))
        for change in self.changes:
            self.progress(change)
        self.finish()
        return 0

    def settings(self, name: str) -> dict:
        value = self.scenario[name]
        return {} if value is True else value

    def progress(self, change: dict, *, started_only: bool = False, fails: bool = False) -> None:
        """Each action of one change: started, still running every 10s, complete (or errored:
        the last action of a failing change)."""
        address, started = change["address"], time.monotonic()
        steps = [action for action in change["actions"] if action in HOOK_WORDS]
        for index, action in enumerate(steps):
            identifier = fake_id(address, 1 if action == "create" else 0)
            self.hook("apply_start", address, action, identifier)
            if started_only:
                return
            elapsed = self.elapsed.get(address, round(time.monotonic() - started))
            for seconds in range(10, elapsed, 10):  # internal/command/views/hook_ui.go: 10s
                self.hook("apply_progress", address, action, identifier, seconds)
            if fails and index == len(steps) - 1:
                self.hook("apply_errored", address, action, identifier, elapsed)
                return
            self.hook("apply_complete", address, action, identifier, elapsed)

    def hook(self, kind: str, address: str, action: str, identifier: str, elapsed=None) -> None:
        if self.ui:
            self.ui.hook(kind, address, action, identifier, elapsed)
            return
        start, still, noun = HOOK_WORDS[action]
        if kind == "apply_start":  # internal/command/views/hook_ui.go
            out(f"{address}: {start}..." + ("" if action == "create" else f" [id={identifier}]"))
        elif kind == "apply_progress":
            prior = "" if action == "create" else f"id={identifier}, "
            out(f"{address}: Still {still}... [{prior}{go_duration(elapsed)} elapsed]")
        elif kind == "apply_complete":
            suffix = "" if action == "delete" else f" [id={identifier}]"
            out(f"{address}: {noun} complete after {go_duration(elapsed)}{suffix}")
        # apply_errored: the human UI says nothing; the error box follows

    def run_effects(self, how_many: int) -> None:
        for effect in self.effects[:how_many]:
            if len(effect) != 1:
                raise FakeError(f"scenario apply.effects: one effect per item, got {effect}")
            ((name, params),) = effect.items()
            self.call.effects.append(name)
            updates = run_effect(name, params or {}, self.plan["variables"])
            self.effect_outputs.update(updates)
            # A real apply persists state as each resource finishes, failed apply or not.
            self.state.set_outputs(updates)
            self.state.save()

    def interrupted(self, settings: dict) -> int:
        self.run_effects(settings.get("after_effects", 0))
        if self.changes:
            self.progress(self.changes[0], started_only=True)
        deadline = time.monotonic() + settings.get("timeout_seconds", 30)
        while not self.call.signals:
            if time.monotonic() > deadline:
                raise FakeError("scenario apply.interrupt: no SIGINT or SIGTERM arrived")
            time.sleep(0.02)
        # internal/command/meta.go RunOperation: Stop, then Interrupted; opWait says Stopping.
        # The JSON view logs both (views/operation.go OperationJSON).
        self.say(INTERRUPTED)
        self.say("Stopping operation...")
        grace_end = time.monotonic() + settings.get("grace_seconds", 0.3)
        while time.monotonic() < grace_end:
            if len(self.call.signals) > 1:
                if self.ui:
                    self.ui.emit("log", FATAL_INTERRUPT)
                else:
                    sys.stderr.write(FATAL_INTERRUPT)
                return 1
            time.sleep(0.02)
        return 1

    def say(self, text: str) -> None:
        if self.ui:
            self.ui.emit("log", text)
        else:
            out(text)

    def finish(self) -> None:
        final = {name: self.plan["planned_outputs"][name] for name in self.plan["planned_outputs"]}
        final.update(self.effect_outputs)
        final.update(self.scenario.get("outputs", {}))
        self.state.replace_outputs({k: v for k, v in final.items() if v is not None})
        self.state.save()
        add, change, destroy = counts(self.changes)
        if self.ui:
            self.ui.change_summary(add, change, destroy, destroying=self.plan.get("destroy", False))
            self.ui.outputs(self.state.outputs)
            return
        out(f"\nApply complete! Resources: {add} added, {change} changed, {destroy} destroyed.")
        if self.state.outputs:
            out("\nOutputs:\n")
            for name, o in self.state.outputs.items():
                out(f"{name} = {'<sensitive>' if o['sensitive'] else hcl_value(o['value'])}")


# A hook's action -> (its start verb, its progress verb, its completion noun), as OpenTofu words
# them in both UIs (internal/command/views/hook_ui.go, views/json/hook.go).
HOOK_WORDS = {
    "create": ("Creating", "creating", "Creation"),
    "update": ("Modifying", "modifying", "Modifications"),
    "delete": ("Destroying", "destroying", "Destruction"),
}
# plans.ResourceInstanceChangeActionReason -> views/json/change.go's reason for a replacement
REPLACE_REASONS = {
    "replace_because_cannot_update": "cannot_update",
    "replace_because_tainted": "tainted",
    "replace_by_request": "requested",
    "replace_by_triggers": "replace_by_triggers",
}


def go_duration(seconds: int) -> str:
    """Go's time.Duration.String() of whole seconds: 0s, 12s, 1m0s, 6m12s, 1h2m3s."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def json_resource(address: str) -> dict:
    """views/json/resource_addr.go: a resource instance's address, in its parts."""
    module, _, kind, name = parse_address(address)
    within = address[len(module) + 1 :] if module else address
    key = re.search(r"\[(.+)\]$", within)
    return {
        "addr": address,
        "module": module,
        "resource": within,
        "implied_provider": provider_of(kind)[0],
        "resource_type": kind,
        "resource_name": name,
        "resource_key": json.loads(key[1]) if key else None,
    }


class JsonUI:
    """OpenTofu's machine-readable UI (`-json`; internal/command/views/json_view.go and
    views/json/): one JSON message a line on stdout, errors included (`diagnostic` messages)."""

    active: JsonUI | None = None  # set once a command has seen -json

    def __init__(self, version: str):
        self.version = version

    @classmethod
    def start(cls, version: str) -> None:
        cls.active = cls(version)
        # json_view.go Version: JSON_UI_VERSION is 1.2 since OpenTofu 1.7
        cls.active.emit("version", f"OpenTofu {version}", tofu=version, ui="1.2")

    def emit(self, kind: str, message: str, level: str = "info", **fields) -> None:
        moment = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        record = {"@level": level, "@message": message, "@module": "tofu.ui"}
        record.update({"@timestamp": moment, **fields, "type": kind})
        out(json.dumps(record, separators=(",", ":")))

    def planned_change(self, change: dict) -> None:
        actions = change["actions"]
        action = "replace" if "delete" in actions and "create" in actions else actions[0]
        body = {"resource": json_resource(change["address"]), "action": action}
        reason = REPLACE_REASONS.get(change.get("action_reason", ""))
        if action == "replace" and reason:
            body["reason"] = reason
        self.emit("planned_change", f"{change['address']}: Plan to {action}", change=body)

    def hook(self, kind: str, address: str, action: str, identifier: str, elapsed) -> None:
        start, still, noun = HOOK_WORDS[action]
        hook: dict = {"resource": json_resource(address), "action": action}
        with_id = kind == "apply_start" and action != "create"
        with_id = with_id or kind == "apply_complete" and action != "delete"
        if with_id:
            hook.update(id_key="id", id_value=identifier)
        if elapsed is not None:
            hook["elapsed_seconds"] = elapsed
        suffix = f" [id={identifier}]" if with_id else ""
        message = {
            "apply_start": f"{start}...{suffix}",
            "apply_progress": f"Still {still}... [{go_duration(elapsed or 0)} elapsed]",
            "apply_complete": f"{noun} complete after {go_duration(elapsed or 0)}{suffix}",
            "apply_errored": f"{noun} errored after {go_duration(elapsed or 0)}",
        }[kind]
        self.emit(kind, f"{address}: {message}", hook=hook)

    def change_summary(self, add: int, change: int, remove: int, *, destroying: bool) -> None:
        changes = {"add": add, "change": change, "import": 0, "remove": remove, "forget": 0}
        if destroying:  # views/json/change_summary.go
            message = f"Destroy complete! Resources: {remove} destroyed."
        else:
            message = (
                f"Apply complete! Resources: {add} added, {change} changed, {remove} destroyed."
            )
        operation = "destroy" if destroying else "apply"
        self.emit("change_summary", message, changes={**changes, "operation": operation})

    def outputs(self, outputs: dict) -> None:
        # views/json/output.go: a sensitive output's value is left out, its type kept
        shown = {
            name: {k: v for k, v in o.items() if k != "value" or not o["sensitive"]}
            for name, o in outputs.items()
        }
        self.emit("outputs", f"Outputs: {len(shown)}", outputs=shown)

    def diagnostic(self, summary: str, detail: str, address: str | None) -> None:
        body = {"severity": "error", "summary": summary, "detail": detail}
        if address:
            body["address"] = address
        self.emit("diagnostic", f"Error: {summary}", level="error", diagnostic=body)


EFFECT_NAMES = ("replace_hub_load_balancer", "create_hub_load_balancer", "delete_hub_load_balancer")


def run_effect(name: str, params: dict, variables: dict) -> dict:
    """Change the hub's load balancer in moto's server; return the output updates."""
    if name not in EFFECT_NAMES:
        raise FakeError(
            f"scenario apply.effects: unknown effect {name!r}; known: {', '.join(EFFECT_NAMES)}"
        )
    # boto3 only for the calls that need it: the launcher starts the fake without `site`
    # (tests/support/fake_tofu.py), so site-packages are added here, once.
    if sys.flags.no_site and "boto3" not in sys.modules:
        import site

        site.main()
    from tests.support import aws_world

    where = {}
    for key, variable in (
        ("cluster_name", "cluster_name"),
        ("hub_namespace", "hub_namespace"),
        ("region", "aws_region"),
    ):
        where[key] = params.get(key, variables.get(variable))
        if not where[key]:
            raise FakeError(f"effect {name}: no {key} in its parameters or the plan's variables")
    output = params.get("output", HOSTNAME_OUTPUT)
    hostname = None
    if name != "create_hub_load_balancer":
        aws_world.delete_hub_load_balancers(**where)
    if name != "delete_hub_load_balancer":
        hostname = aws_world.create_hub_load_balancer(**where, kind=params.get("kind", "elbv2"))
    return {output: hostname} if output else {}

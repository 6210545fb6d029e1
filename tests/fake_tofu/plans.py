"""Plans: the fake's plan file, OpenTofu's human rendering of it and its JSON (`show -json`)."""

from __future__ import annotations

import json
import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from tests.fake_tofu.output import bold, fake_id, hcl_value, value_type
from tests.fake_tofu.state import State
from tests.fake_tofu.texts import (
    ACTION_SYMBOLS,
    COLUMNS,
    DEFAULT_VERSION,
    REGISTRY,
    Failure,
    FakeError,
)


def build_plan(
    scenario: dict,
    state: State,
    variables: dict,
    backend: dict,
    destroy: bool,
    refresh_only: bool = False,
) -> dict:
    """The fake's plan file: what `show -json` and `apply` read back.

    A refresh-only plan changes nothing: OpenTofu's planner refuses one with resource changes
    (tofu/context_plan.go refreshOnlyPlan), and the outputs stay as the state has them.
    """
    wanted = scenario.get("destroy_plan" if destroy else "plan", {})
    prior = {name: o["value"] for name, o in state.outputs.items()}
    planned = prior if refresh_only else wanted.get("outputs", {} if destroy else prior)
    changes = (
        [] if refresh_only else [normalise_change(c) for c in wanted.get("resource_changes", [])]
    )
    drift = [normalise_change(c) for c in wanted.get("resource_drift", [])]
    for change in changes + drift:
        if tuple(change["actions"]) not in ACTION_SYMBOLS and change["actions"] != ["no-op"]:
            raise FakeError(f"scenario plan: unknown actions {change['actions']}")
    return {
        "fake_tofu_plan": 1,
        "destroy": destroy,
        "refresh_only": refresh_only,
        "version": scenario.get("version", DEFAULT_VERSION),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backend": backend,
        "state_serial": state.serial,
        "variables": variables,
        "providers": wanted.get("providers", {}),
        "resource_changes": sorted(changes, key=lambda c: c["address"]),
        "resource_drift": sorted(drift, key=lambda c: c["address"]),
        "relevant_attributes": wanted.get("relevant_attributes", []),
        "prior_outputs": state.outputs,
        "planned_outputs": planned,
        "unknown_outputs": [] if refresh_only else wanted.get("unknown_outputs", []),
        "null_outputs": scenario.get("null_outputs", []),
    }


def normalise_change(change: dict) -> dict:
    address, actions = change["address"], list(change["actions"])
    old_id = fake_id(address)
    before = change.get("before", None if actions == ["create"] else {"id": old_id})
    default_after = {} if "create" in actions else {"id": old_id}
    after = change.get("after", None if actions == ["delete"] else default_after)
    unknown = change.get("after_unknown")
    if unknown is None:
        unknown = {"id": True} if after is not None and "id" not in after else {}
    normal = {
        "address": address,
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": unknown,
        "before_sensitive": change.get("before_sensitive", False if before is None else {}),
        "after_sensitive": change.get("after_sensitive", False if after is None else {}),
    }
    if "delete" in actions and "create" in actions:
        normal["action_reason"] = change.get("action_reason", "replace_because_cannot_update")
    elif "action_reason" in change:
        normal["action_reason"] = change["action_reason"]
    if change.get("replace_paths"):
        normal["replace_paths"] = change["replace_paths"]
    return normal


def write_plan_file(target: Path, plan: dict, configuration: dict[str, bytes]) -> None:
    """A zip archive, as the engine's: the fake's plan as `tfplan`, then the configuration."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tfplan", json.dumps(plan, indent=2))
        for name, content in configuration.items():
            archive.writestr(name, content)


def load_plan(path: str, *, show: bool) -> dict:
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("tfplan").decode("utf-8")
    except OSError as exc:
        reason = f"open {path}: {exc.strerror.lower()}"
        if show:  # internal/command/show.go, when neither a state nor a plan could be read
            raise Failure(
                "Failed to read the given file as a state or plan file",
                f"State read error: Error loading statefile: {reason}\n\nPlan read "
                f"error: couldn't load the provided path as either a local plan file "
                f"({reason}) or a saved cloud plan ({reason})",
            ) from None
        raise Failure(f'Failed to load "{path}" as a plan file', f"Error: {reason}") from None
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError):
        text = ""
    try:
        plan = json.loads(text)
        assert plan["fake_tofu_plan"] == 1
    except (ValueError, KeyError, TypeError, AssertionError):
        raise Failure(
            f'Failed to load "{path}" as a plan file', "Error: zip: not a valid zip file"
        ) from None
    return plan


def plan_has_changes(plan: dict) -> bool:
    """What -detailed-exitcode reports as 2: a resource or output change. Drift alone is not one:
    OpenTofu 1.10 exits 0 from a refresh-only plan whatever it found (opentofu/opentofu#3107),
    so callers read resource_drift from the plan's JSON instead."""
    return any(c["actions"] != ["no-op"] for c in plan["resource_changes"]) or any(
        change["actions"] != ["no-op"] for change in output_changes(plan).values()
    )


def counts(changes: list[dict]) -> tuple[int, int, int]:
    add = sum("create" in c["actions"] for c in changes)
    change = sum(c["actions"] == ["update"] for c in changes)
    destroy = sum("delete" in c["actions"] for c in changes)
    return add, change, destroy


# internal/command/jsonformat/plan.go (renderHumanDiffDrift, and the empty refresh-only plan);
# paragraphs word-wrapped at the width, as format.WordWrap does.
def _wrapped(text: str) -> str:
    return textwrap.fill(text, COLUMNS, break_long_words=False, break_on_hyphens=False)


DRIFT_NOTE = "\nNote: Objects have changed outside of OpenTofu\n\n" + _wrapped(
    'OpenTofu detected the following changes made outside of OpenTofu since the last "tofu '
    'apply" which may have affected this plan:'
)
DRIFT_PHRASES = {("update",): ("~", "has changed"), ("delete",): ("-", "has been deleted")}
REFRESH_ONLY_NOTE = "\n" + _wrapped(
    "This is a refresh-only plan, so OpenTofu will not take any actions to undo these. If you "
    "were expecting these changes then you can apply this plan to record the updated values in "
    "the OpenTofu state without changing any remote objects."
)
NO_DRIFT = "\nNo changes. Your infrastructure still matches the configuration.\n\n" + _wrapped(
    "OpenTofu has checked that the real remote objects still match the result of your most "
    "recent changes, and found no differences."
)


def render_refresh_only(plan: dict) -> str:
    """The human refresh-only plan: the drift, or that the real objects still match."""
    drift = [c for c in plan["resource_drift"] if c["actions"] != ["no-op"]]
    if not drift:
        return NO_DRIFT
    lines = [DRIFT_NOTE]
    for c in drift:
        symbol, phrase = DRIFT_PHRASES.get(tuple(c["actions"]), ("~", "has changed"))
        kind, name = parse_address(c["address"])[2:]
        lines += ["", f"  # {c['address']} {phrase}", f'  {symbol} resource "{kind}" "{name}" {{']
        lines += [f"      {id_line(c)}", "    }"]
    lines.append(REFRESH_ONLY_NOTE)
    return "\n".join(lines)


def render_plan(plan: dict) -> str:
    """The human plan, shaped like internal/command/jsonformat's renderer (attributes elided)."""
    if plan.get("refresh_only"):
        return render_refresh_only(plan)
    changes = [c for c in plan["resource_changes"] if c["actions"] != ["no-op"]]
    outputs = {n: c for n, c in output_changes(plan).items() if c["actions"] != ["no-op"]}
    lines = []
    if not changes and not outputs:
        return (
            "\nNo changes. Your infrastructure matches the configuration.\n\nOpenTofu has "
            "compared your real infrastructure against your configuration and found no\n"
            "differences, so no changes are needed."
        )
    if changes:
        lines += [
            "",
            "OpenTofu used the selected providers to generate the following execution",
            "plan. Resource actions are indicated with the following symbols:",
        ]
        present = {tuple(c["actions"]) for c in changes}
        lines += [
            f"{symbol.rjust(3)} {legend}"
            for actions, (symbol, legend, _) in ACTION_SYMBOLS.items()
            if actions in present
        ]
        lines += ["", "OpenTofu will perform the following actions:", ""]
        for c in changes:
            symbol, _, phrase = ACTION_SYMBOLS[tuple(c["actions"])]
            kind, name = parse_address(c["address"])[2:]
            lines += [
                f"  # {c['address']} {phrase}",
                f'{symbol.rjust(3)} resource "{kind}" "{name}" {{',
                f"      {id_line(c)}",
                "    }",
                "",
            ]
        add, change, destroy = counts(changes)
        lines.append(f"{bold('Plan:')} {add} to add, {change} to change, {destroy} to destroy.")
    if outputs:
        lines += ["", "Changes to Outputs:"]
        for name, c in outputs.items():
            new = "(known after apply)" if c["after_unknown"] is True else hcl_value(c["after"])
            if c["actions"] == ["create"]:
                lines.append(f"  + {name} = {new}")
            elif c["actions"] == ["delete"]:
                lines.append(f"  - {name} = {hcl_value(c['before'])} -> null")
            else:
                lines.append(f"  ~ {name} = {hcl_value(c['before'])} -> {new}")
        if not changes:
            lines += [
                "",
                "You can apply this plan to save these new output values to the "
                "OpenTofu state, without changing any real infrastructure.",
            ]
    return "\n".join(lines)


def id_line(change: dict) -> str:
    """The one attribute the fake shows in a resource's block: its id."""
    before = hcl_value((change["before"] or {}).get("id"))
    after = (
        "(known after apply)"
        if change["after_unknown"].get("id")
        else hcl_value((change["after"] or {}).get("id"))
    )
    if change["actions"] == ["create"]:
        return f"+ id = {after}"
    if change["actions"] == ["delete"]:
        return f"- id = {before} -> null"
    if before == after:
        return f"  id = {before}"
    return f"~ id = {before} -> {after}"


def parse_address(address: str) -> tuple[str, str, str, str]:
    """(module_address, mode, type, name) of `module.a.aws_x.y` or `data.aws_x.y`."""
    parts = address.split(".")
    module = []
    while len(parts) > 2 and parts[0] == "module":
        module += parts[:2]
        parts = parts[2:]
    mode = "managed"
    if parts[0] == "data":
        mode, parts = "data", parts[1:]
    if len(parts) != 2:
        raise FakeError(f"scenario plan: cannot read resource address {address!r}")
    return ".".join(module), mode, parts[0], parts[1].split("[")[0]


def provider_of(kind: str) -> tuple[str, str]:
    local = kind.split("_")[0]
    return local, f"{REGISTRY}/hashicorp/{local}"


def _planned_value(change: dict) -> dict:
    """An output's value in planned_values: none while unknown, a null one without its type."""
    if "after" not in change:
        return {}
    if change["after"] is None:
        return {"value": None}
    return {"type": value_type(change["after"]), "value": change["after"]}


def output_changes(plan: dict) -> dict:
    """internal/command/jsonplan MarshalOutputChanges: one change per root output."""
    prior = {n: o["value"] for n, o in plan["prior_outputs"].items()}
    planned, unknown = plan["planned_outputs"], set(plan["unknown_outputs"])
    sensitive = {n for n, o in plan["prior_outputs"].items() if o["sensitive"]}
    changes = {}
    # A declared output whose value is null is in neither the state nor the planned values, but
    # the engine still lists it, unchanged.
    null = set(plan.get("null_outputs", [])) - set(prior) - set(planned) - unknown
    for name in sorted(set(prior) | set(planned) | unknown | null):
        before = prior.get(name)
        if name in null:
            actions, after = ["no-op"], None
        elif name not in planned and name not in unknown:
            actions, after = ["delete"], None
        elif name not in prior:
            actions, after = ["create"], planned.get(name)
        elif name in unknown or planned[name] != before:
            actions, after = ["update"], planned.get(name)
        else:
            actions, after = ["no-op"], before
        change = {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": name in unknown,
            "before_sensitive": name in sensitive,
            "after_sensitive": name in sensitive,
        }
        if name in unknown:
            del change["after"]
        changes[name] = change
    return changes


def json_change(c: dict) -> dict:
    """One entry of resource_changes or resource_drift (jsonplan MarshalResourceChanges)."""
    module, mode, kind, name = parse_address(c["address"])
    entry = {
        "address": c["address"],
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": provider_of(kind)[1],
    }
    if module:
        entry["module_address"] = module
    change = {
        "actions": c["actions"],
        "before": c["before"],
        "after": c["after"],
        "after_unknown": c["after_unknown"],
        "before_sensitive": c["before_sensitive"],
        "after_sensitive": c["after_sensitive"],
    }
    if c.get("replace_paths"):
        change["replace_paths"] = c["replace_paths"]
    entry["change"] = change
    if c.get("action_reason"):
        entry["action_reason"] = c["action_reason"]
    return entry


def state_resource(c: dict, values: dict, sensitive) -> dict:
    """A resource as jsonstate writes it in planned_values and prior_state."""
    _, mode, kind, name = parse_address(c["address"])
    return {
        "address": c["address"],
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": provider_of(kind)[1],
        "schema_version": 0,
        "sensitive_values": sensitive or {},
        "values": values,
    }


def state_module(resources: list[tuple[str, dict]]) -> dict:
    """root_module with child_modules, leaving out empty lists as OpenTofu's omitempty does."""
    by_module: dict = {}
    for module, resource in resources:
        by_module.setdefault(module, []).append(resource)
    root: dict = {}
    if by_module.get(""):
        root["resources"] = by_module[""]
    children = [{"address": m, "resources": r} for m, r in sorted(by_module.items()) if m]
    if children:
        root["child_modules"] = children
    return root


def plan_json(plan: dict) -> dict:
    """`tofu show -json PLANFILE`: the JSON plan format 1.2 (internal/command/jsonplan)."""
    changes = plan["resource_changes"]
    planned = [
        (parse_address(c["address"])[0], state_resource(c, c["after"], c["after_sensitive"]))
        for c in changes
        if c["after"] is not None
    ]
    prior = [
        (parse_address(c["address"])[0], state_resource(c, c["before"], c["before_sensitive"]))
        for c in changes
        if c["before"] is not None
    ]
    if plan.get("refresh_only"):  # prior_state is the refreshed state: the real objects
        prior = [
            (parse_address(c["address"])[0], state_resource(c, c["after"], c["after_sensitive"]))
            for c in plan["resource_drift"]
            if c["after"] is not None
        ]
    outputs = output_changes(plan)
    planned_values: dict = {"root_module": state_module(planned)}
    planned_outputs = {
        name: {
            "sensitive": c["after_sensitive"],
            **_planned_value(c),
        }
        for name, c in outputs.items()
        if c["actions"] != ["delete"]
    }
    if planned_outputs:
        planned_values["outputs"] = planned_outputs
    document = {
        "format_version": "1.2",
        "terraform_version": plan["version"],
        "planned_values": planned_values,
        "resource_drift": [json_change(c) for c in plan["resource_drift"]],
        "resource_changes": [json_change(c) for c in changes],
        "output_changes": outputs,
        "configuration": configuration(plan),
        "relevant_attributes": plan["relevant_attributes"],
        "timestamp": plan["timestamp"],
        "errored": False,
    }
    if plan["variables"]:
        document["variables"] = {k: {"value": v} for k, v in sorted(plan["variables"].items())}
    if prior or plan["prior_outputs"]:
        values: dict = {"root_module": state_module(prior)}
        if plan["prior_outputs"]:
            values["outputs"] = plan["prior_outputs"]
        document["prior_state"] = {
            "format_version": "1.0",
            "terraform_version": plan["version"],
            "values": values,
        }
    # OpenTofu's omitempty fields are absent rather than empty.
    return {key: value for key, value in document.items() if value or value is False}


def configuration(plan: dict) -> dict:
    """The configuration block, as far as the fake knows it: providers, resources, outputs."""
    providers: dict = {}
    resources: dict = {}
    # Every resource the fake knows of is configured: a refresh-only plan's drift included.
    known = {c["address"]: c for c in plan["resource_drift"] + plan["resource_changes"]}
    for c in sorted(known.values(), key=lambda c: c["address"]):
        module, mode, kind, name = parse_address(c["address"])
        local, full = provider_of(kind)
        providers[local] = {"name": local, "full_name": full}
        if local in plan["providers"]:
            providers[local]["version_constraint"] = plan["providers"][local]
        resources.setdefault(module, []).append(
            {
                "address": c["address"][len(module) + 1 :] if module else c["address"],
                "mode": mode,
                "type": kind,
                "name": name,
                "provider_config_key": local,
                "expressions": {},
                "schema_version": 0,
            }
        )
    root: dict = {}
    if resources.get(""):
        root["resources"] = resources[""]
    calls = {
        m.split(".")[-1]: {"source": f"./modules/{m.split('.')[-1]}", "module": {"resources": r}}
        for m, r in sorted(resources.items())
        if m
    }
    if calls:
        root["module_calls"] = calls
    outputs = {
        n: {"expression": {}} for n, c in output_changes(plan).items() if c["actions"] != ["delete"]
    }
    if outputs:
        root["outputs"] = outputs
    document: dict = {"root_module": root}
    if providers:
        document["provider_config"] = providers
    return document

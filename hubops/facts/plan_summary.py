"""What a saved plan will do, from OpenTofu's JSON plan format (`tofu show -json PLANFILE`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hubops.facts.markdown import cell, code, words

# OpenTofu's plan JSON spells a replacement as delete+create (or create+delete when
# create_before_destroy is set); both are one "replace" for the operator.
_KINDS = {
    ("create",): "add",
    ("update",): "change",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}


@dataclass
class PlanSummary:
    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    destroy: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    replace_reasons: dict[str, str] = field(default_factory=dict)
    outputs_changed: list[str] = field(default_factory=list)
    # Refactors: {new address: previous address} (`moved` blocks), imports, and forgets (removed
    # from the state, the real object kept). A refactor must move, never destroy: shown plainly.
    moved: dict[str, str] = field(default_factory=dict)
    imported: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    # Node groups updated in place onto another AMI release or Kubernetes version: {address: what
    # moves}. Such an update replaces every node of the group, one at a time (its pods move).
    rolls: dict[str, str] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(
            self.add
            or self.change
            or self.destroy
            or self.replace
            or self.outputs_changed
            or self.moved
            or self.imported
            or self.forgotten
        )

    def counts_line(self) -> str:
        return (
            f"Plan: {len(self.add)} to add, {len(self.change)} to change, "
            f"{len(self.destroy)} to destroy, {len(self.replace)} to replace."
        ) + "".join(
            f" {count} {what}."
            for count, what in (
                (len(self.moved), "moved"),
                (len(self.imported), "to import"),
                (len(self.forgotten), "to forget"),
            )
            if count
        )

    def render(self) -> str:
        if not self.has_changes:
            return "Plan: no changes."
        lines = [self.counts_line()]
        for address in self.replace:
            reason = self.replace_reasons.get(address)
            lines.append(f"  replace {address}" + (f" ({reason})" if reason else ""))
        lines.extend(f"  roll {address} ({what})" for address, what in self.rolls.items())
        lines.extend(f"  update {address}" for address in self.change if address not in self.rolls)
        for verb, addresses in (("destroy", self.destroy), ("add", self.add)):
            lines.extend(f"  {verb} {address}" for address in addresses)
        lines.extend(f"  move {old} -> {new}" for new, old in self.moved.items())
        lines.extend(f"  import {address}" for address in self.imported)
        lines.extend(
            f"  forget {address} (left running, no longer managed)" for address in self.forgotten
        )
        if self.outputs_changed:
            lines.append(f"  outputs changed: {', '.join(self.outputs_changed)}")
        return "\n".join(lines)

    def markdown(self, title: str) -> str:
        """The summary as a Markdown table, for a GitHub job summary."""
        counts = self.counts_line() if self.has_changes else "Plan: no changes."
        lines = [f"### {title}", "", f"**{counts}**"]
        rows = [("replace", a, self.replace_reasons.get(a, "")) for a in self.replace]
        rows += [("roll", a, what) for a, what in self.rolls.items()]
        rows += [
            (verb, a, "")
            for verb, addresses in (
                ("destroy", self.destroy),
                ("change", [a for a in self.change if a not in self.rolls]),
                ("add", self.add),
            )
            for a in addresses
        ]
        if rows:
            lines += ["", "| action | address | reason |", "| --- | --- | --- |"]
            lines += [
                f"| {verb} | {cell(address)} | {words(reason)} |" for verb, address, reason in rows
            ]
        if self.outputs_changed:
            lines += ["", f"Outputs changed: {', '.join(code(o) for o in self.outputs_changed)}"]
        return "\n".join(lines)


def summarize(plan: dict) -> PlanSummary:
    summary = PlanSummary()
    for change in plan.get("resource_changes", []):
        address = change["address"]
        actions = tuple(change.get("change", {}).get("actions", []))
        if change.get("previous_address"):
            summary.moved[address] = change["previous_address"]
        if change.get("change", {}).get("importing"):
            summary.imported.append(address)
        if actions == ("forget",):
            summary.forgotten.append(address)
        kind = _KINDS.get(actions)
        if kind is None:  # no-op, read, forget
            continue
        getattr(summary, kind).append(address)
        if kind == "replace" and change.get("action_reason"):
            summary.replace_reasons[address] = change["action_reason"]
        if kind == "change" and change.get("type") == "aws_eks_node_group":
            what = _node_roll(change["change"])
            if what:
                summary.rolls[address] = what
    for name, change in sorted(plan.get("output_changes", {}).items()):
        if change.get("actions") not in (["no-op"], None):
            summary.outputs_changed.append(name)
    return summary


# What an in-place update of a managed node group moves its nodes onto (each replaces them all).
_ROLLING = (("release_version", "AMI release"), ("version", "Kubernetes"))


def _node_roll(change: dict) -> str | None:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    moves = []
    for key, what in _ROLLING:
        new = "(known after apply)" if unknown.get(key) is True else after.get(key)
        if before.get(key) != new:
            moves.append(f"{what} {before.get(key)} -> {new}")
    if not moves:
        return None
    return ", ".join(moves) + ": every node is replaced, one at a time"

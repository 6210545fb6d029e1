"""What the operator reads while an apply runs, from the engine's machine-readable UI.

`tofu apply -json` writes one JSON message a line (OpenTofu's "machine-readable UI", the same in
Terraform): `planned_change` for each resource the saved plan changes, `apply_start`,
`apply_progress` (every 10 seconds of a slow action), `apply_complete` or `apply_errored` for each
action, `change_summary` at the end, `log` lines (the interrupt text) and `diagnostic` messages
(errors and warnings, which in this mode arrive on stdout, not stderr). `ApplyProgress` turns
them into plain lines, one per event, with no colours, spinners or carriage returns, so that a
terminal and a CI log read the same:

      creating module.eks.aws_eks_node_group.this["hub"]
      still creating module.eks.aws_eks_node_group.this["hub"] (1m00s elapsed)
      created module.eks.aws_eks_node_group.this["hub"] after 6m12s (1 of 2)
    Apply complete: 1 added, 1 changed, 0 destroyed; resources done: 2 of 2.

Diagnostics are drawn as the engine draws them in its human mode (`Error: ...` in a box) on the
error stream, where the caller also keeps them for the error message and recognises a held lock.
A line that is not JSON (an engine that does not speak it, a crash) is passed on unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

# An action that took this long shows its time when it completes (node groups, certificates,
# clusters); quicker ones would only add noise.
SLOW_SECONDS = 10
# A running action is reported at most this often (the engine says it every 10 seconds).
STILL_RUNNING_EVERY_SECONDS = 30

# The hook's action (internal/command/views/json/hook.go) -> (while it runs, once it is done)
_VERBS = {
    "create": ("creating", "created"),
    "update": ("updating", "updated"),
    "delete": ("destroying", "destroyed"),
    "replace": ("replacing", "replaced"),
    "read": ("reading", "read"),
    "noop": ("checking", "checked"),
}
# A planned change's action -> how many hooks complete it (a replacement is a delete and a create).
_STEPS = {"replace": 2, "noop": 0, "read": 0}


def duration(seconds: float) -> str:
    """`45s`, `6m12s`, `1h02m03s`."""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _verbs(action: str) -> tuple[str, str]:
    return _VERBS.get(action, (action, action))


@dataclass
class ApplyProgress:
    """Feed it the engine's stdout line by line; `finish` writes the final count.

    `out` takes a line for the operator's output, `err` a line for the error stream (diagnostics,
    and anything the engine says at error or warning level).
    """

    out: Callable[[str], None]
    err: Callable[[str], None]
    # address -> hooks still to complete before the resource is done
    remaining: dict[str, int] = field(default_factory=dict)
    planned: int = 0
    done: int = 0
    running: dict[str, str] = field(default_factory=dict)  # address -> action in progress
    failed: list[str] = field(default_factory=list)
    summary: dict | None = None  # the engine's change_summary of the apply
    _still_said: dict[str, int] = field(default_factory=dict)
    _seen_work: bool = False
    # Called once, when the engine is first seen applying (a resource started, or its summary of
    # an apply): until then, a refused plan (stale, locked) has changed nothing.
    on_start: Callable[[], None] | None = None

    def _work_seen(self) -> None:
        if not self._seen_work and self.on_start is not None:
            self.on_start()
        self._seen_work = True

    def feed(self, line: str) -> None:
        text = line.rstrip("\n")
        if not text.strip():
            return
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or "type" not in message:
            self.out(text)  # not the machine-readable UI: shown as it came
            return
        handler = getattr(self, "_on_" + str(message["type"]), None)
        if handler is not None:
            handler(message)
        elif message.get("@level") in ("error", "warn"):
            self.err(str(message.get("@message", "")))

    def finish(self) -> None:
        """The final count: what completed, and what failed or never finished."""
        if not self._seen_work:
            return
        counted = f"{self.done} of {self.planned}" if self.planned else f"{self.done}"
        if self.summary is not None and not self.failed and not self.running:
            changes = self.summary
            if changes.get("operation") == "destroy":
                what = f"Destroy complete: {changes.get('remove', 0)} destroyed"
            else:
                what = (
                    f"Apply complete: {changes.get('add', 0)} added, "
                    f"{changes.get('change', 0)} changed, {changes.get('remove', 0)} destroyed"
                )
            self.out(f"{what}; resources done: {counted}.")
            return
        line = f"Apply did not complete; resources done: {counted}"
        if self.failed:
            line += f"; failed: {', '.join(self.failed)}"
        if self.running:
            line += f"; not finished: {', '.join(self.running)}"
        self.out(line + ".")

    # -- messages -------------------------------------------------------------------------------

    def _on_planned_change(self, message: dict) -> None:
        change = message.get("change") or {}
        address = _address(change)
        steps = _STEPS.get(change.get("action"), 1)
        if address and steps and address not in self.remaining:
            self.remaining[address] = steps
            self.planned += 1

    def _on_apply_start(self, message: dict) -> None:
        hook = message.get("hook") or {}
        address, action = _address(hook), hook.get("action", "")
        self._work_seen()
        self.running[address] = action
        self.out(f"  {_verbs(action)[0]} {address}")

    def _on_apply_progress(self, message: dict) -> None:
        hook = message.get("hook") or {}
        address, action = _address(hook), hook.get("action", "")
        elapsed = int(hook.get("elapsed_seconds") or 0)
        if elapsed < self._still_said.get(address, 0) + STILL_RUNNING_EVERY_SECONDS:
            return
        self._still_said[address] = elapsed
        self.out(f"  still {_verbs(action)[0]} {address} ({duration(elapsed)} elapsed)")

    def _on_apply_complete(self, message: dict) -> None:
        hook = message.get("hook") or {}
        address, action = _address(hook), hook.get("action", "")
        self.running.pop(address, None)
        self._still_said.pop(address, None)
        elapsed = int(hook.get("elapsed_seconds") or 0)
        line = f"  {_verbs(action)[1]} {address}"
        if elapsed >= SLOW_SECONDS:
            line += f" after {duration(elapsed)}"
        if address in self.remaining:
            self.remaining[address] -= 1
            if self.remaining[address] <= 0:
                del self.remaining[address]
                self.done += 1
                line += f" ({self.done} of {self.planned})"
        elif action not in _STEPS:  # a change the plan messages did not announce
            self.done += 1
        self.out(line)

    def _on_apply_errored(self, message: dict) -> None:
        hook = message.get("hook") or {}
        address, action = _address(hook), hook.get("action", "")
        self.running.pop(address, None)
        self._still_said.pop(address, None)
        self.failed.append(address)
        elapsed = int(hook.get("elapsed_seconds") or 0)
        self.out(f"  FAILED {_verbs(action)[0]} {address} after {duration(elapsed)}")

    def _on_provision_progress(self, message: dict) -> None:
        hook = message.get("hook") or {}
        for output in str(hook.get("output", "")).splitlines() or [""]:
            self.out(f"  {_address(hook)} ({hook.get('provisioner', 'provisioner')}): {output}")

    def _on_provision_errored(self, message: dict) -> None:
        hook = message.get("hook") or {}
        self.out(f"  {_address(hook)} ({hook.get('provisioner', 'provisioner')}): errored")

    def _on_change_summary(self, message: dict) -> None:
        changes = message.get("changes") or {}
        if changes.get("operation") in ("apply", "destroy"):
            self._work_seen()
            self.summary = changes

    def _on_log(self, message: dict) -> None:
        # The engine's own words, such as its interrupt text ("Interrupt received. ...").
        emit = self.err if message.get("@level") in ("error", "warn") else self.out
        for text in str(message.get("@message", "")).strip("\n").splitlines():
            emit(text)

    def _on_diagnostic(self, message: dict) -> None:
        for text in render_diagnostic(message.get("diagnostic") or {}):
            self.err(text)


def _address(part: dict) -> str:
    return str((part.get("resource") or {}).get("addr", "?"))


def render_diagnostic(diagnostic: dict) -> list[str]:
    """A diagnostic as the engine draws it for a person (internal/command/format), no colours."""
    severity = "Warning" if diagnostic.get("severity") == "warning" else "Error"
    body = [f"{severity}: {diagnostic.get('summary', '')}", ""]
    where = diagnostic.get("range") or {}
    snippet = diagnostic.get("snippet") or {}
    if diagnostic.get("address"):
        body.append(f"  with {diagnostic['address']},")
    if where.get("filename"):
        line = (where.get("start") or {}).get("line")
        context = f", in {snippet['context']}" if snippet.get("context") else ""
        body.append(f"  on {where['filename']} line {line}{context}:")
        if snippet.get("code") is not None:
            body.append(f"  {snippet.get('start_line', line):>3}: {snippet['code']}")
    if len(body) > 2:
        body.append("")
    body += str(diagnostic.get("detail") or "").splitlines()
    while body and not body[-1].strip():
        body.pop()
    return ["╷", *(f"│ {text}" if text else "│" for text in body), "╵"]

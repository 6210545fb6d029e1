"""What a GitHub Actions job reads from us: step outputs (`GITHUB_OUTPUT`) and the job summary
(`GITHUB_STEP_SUMMARY`). Outside Actions (variables unset) nothing is written. Every task writes
them here, and only here.

The summary is for people to read: it is redacted (`hubops.adapters.secrets`), and a summary file
that cannot be written is warned about, never a reason for a run to end otherwise. Step outputs are
what later steps act on (the plan to apply, the environments to rebuild): one that cannot be
written is an error, said as one.
"""

from __future__ import annotations

import os

from hubops.adapters.output import warn
from hubops.adapters.secrets import redact
from hubops.facts.errors import HubopsError


def _append(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def set_outputs(**values: str) -> None:
    """Step outputs, one `name=value` line each (values here never hold newlines)."""
    try:
        _append("GITHUB_OUTPUT", "".join(f"{name}={value}\n" for name, value in values.items()))
    except OSError as exc:
        raise HubopsError(
            f"the step outputs ({', '.join(values)}) could not be written to $GITHUB_OUTPUT "
            f"({exc.strerror or exc})."
        ) from None


def add_to_summary(markdown: str) -> None:
    """Append a section to the job summary, redacted; never raises."""
    try:
        _append("GITHUB_STEP_SUMMARY", redact(markdown).rstrip("\n") + "\n\n")
    except OSError as exc:
        warn(f"warning: the job summary could not be written ({exc.strerror or exc}).")

"""What a GitHub Actions job reads from us: step outputs (`GITHUB_OUTPUT`) and the job summary
(`GITHUB_STEP_SUMMARY`). Outside Actions (variables unset) nothing is written.
"""

from __future__ import annotations

import os


def _append(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def set_outputs(**values: str) -> None:
    """Step outputs, one `name=value` line each (values here never hold newlines)."""
    _append("GITHUB_OUTPUT", "".join(f"{name}={value}\n" for name, value in values.items()))


def add_to_summary(markdown: str) -> None:
    _append("GITHUB_STEP_SUMMARY", markdown.rstrip("\n") + "\n\n")

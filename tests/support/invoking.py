"""Running `invoke` as an operator does: this repository's tasks.py, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def invoke_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args]


def run_invoke(
    *args: str, cwd: Path, env: dict, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        invoke_command(*args),
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

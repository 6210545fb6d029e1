"""The one way this library asks git something: a subprocess with an argument list."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hubops.errors import GitError


def git(root: Path, *args: str, check: bool = True) -> str:
    """git's stdout; a failure raises GitError (or, with check=False, gives "")."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("No `git` on PATH: install git (apt-get install git).") from None
    if check and done.returncode != 0:
        raise GitError(f"`git {' '.join(args)}` failed in {root}: {done.stderr.strip()}")
    return done.stdout if done.returncode == 0 else ""

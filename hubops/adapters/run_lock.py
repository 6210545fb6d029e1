"""One run per environment at a time in a checkout: the run frame's first stage.

A checkout-wide lock per environment (`.hubops/locks/ENV.lock`) keeps a second plan, apply,
destroy, drift or restore wait of that environment from running in the same checkout meanwhile;
the state lock guards across machines. The lock is the kernel's (`flock`), so a run that dies
releases it; the file says who holds it, for the run that is refused.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from hubops.adapters.saved_plan import private_folder
from hubops.facts.errors import PreflightError
from hubops.facts.layout import locks_dir


def _pid(holder: str) -> str:
    """The holder's process id, as its lock file names it ("PID" where it does not)."""
    words = holder.split(",", 1)[0].split()
    return words[1] if len(words) == 2 and words[0] == "pid" and words[1].isdigit() else "PID"


@contextmanager
def environment_run_lock(root: Path, env_name: str, verb: str):
    """Hold the checkout's lock for this environment; refuse at once when another run holds it."""
    folder = private_folder(locks_dir(root))
    path = folder / f"{env_name}.lock"
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            raise PreflightError(
                f"Another hubops run for {env_name} is in progress in this checkout ({holder}; "
                f"lock {path.relative_to(root)}): wait for it to finish, or stop it (Ctrl-C in "
                f"its terminal, or `kill -INT {_pid(holder)}`: it stops cleanly), then run again. "
                "Nothing was changed."
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()}, `invoke {verb} --env {env_name}`, since {started}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock

"""The run frame: the stages every verb that changes or judges a cluster goes through, in order.

    run lock -> preflight -> engine -> recorded run (-> closing)

`run_frame` holds the checkout's run lock for the environment (`hubops.adapters.run_lock`) for as
long as the verb runs, and gives it a `LockedFrame`; its preflight gives a `CheckedFrame`, the
only kind that starts the engine, so the order is the types' own. A verb takes the stages as far
as it needs them: apply and destroy take all of them; plan and drift record nothing (they change
nothing the records track); a restore wait (`dns-check --wait`) asks AWS and DNS itself and neither
preflights nor starts the engine, but is locked and recorded like the others. A fix to a stage
reaches every verb at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters.run_lock import environment_run_lock
from hubops.adapters.tofu import Tofu
from hubops.facts.environments import Environment
from hubops.facts.run_record import RunRecord
from hubops.flows.preflight import preflight
from hubops.flows.runs import RunResult, recorded_run


@dataclass(frozen=True)
class _Frame:
    root: Path
    env: Environment

    def recorded(
        self,
        result: RunResult,
        say: Callable[[str], None],
        build: Callable[[], RunRecord | None],
        closing: Callable[[], None] | None = None,
    ) -> AbstractContextManager[None]:
        """The recorded run (`hubops.flows.runs.recorded_run`): every outcome ends in its record,
        which `build` makes whole from the run's progress once it has ended."""
        return recorded_run(self.root, self.env, result, say, build, closing)


@dataclass(frozen=True)
class LockedFrame(_Frame):
    """The environment's run lock is held; nothing is checked yet, so there is no engine."""

    def preflight(self, *, deploying: bool = True) -> CheckedFrame:
        """Every precondition (`hubops.flows.preflight`); the frame that may start the engine."""
        commit = preflight(self.root, self.env, deploying=deploying)
        return CheckedFrame(self.root, self.env, commit)


@dataclass(frozen=True)
class CheckedFrame(_Frame):
    """Preflight passed: only such a frame starts the engine."""

    commit: str | None  # the commit being deployed (None: a preview of uncommitted files)

    def engine(self, *, lock_timeout: str = "0s", relay_to_stderr: bool = False) -> Tofu:
        """The engine for this environment, initialised (after preflight: it names every
        missing tool at once, the engine among them)."""
        tofu = Tofu(self.root, self.env, lock_timeout=lock_timeout, relay_to_stderr=relay_to_stderr)
        tofu.init()
        return tofu


@contextmanager
def run_frame(root: Path, env: Environment, verb: str) -> Iterator[LockedFrame]:
    """Hold `env`'s run lock in this checkout (refused at once while another run holds it)."""
    with environment_run_lock(root, env.name, verb):
        yield LockedFrame(root, env)

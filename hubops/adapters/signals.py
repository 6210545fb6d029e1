"""The signals that can end a run, handled in one place.

Ctrl-C (SIGINT), a CI runner's SIGTERM and a closed terminal or ssh session (SIGHUP) are all the
same request: stop. Their default action would kill the task at once while the engine carries
on, losing the verdict and the run record; so during a run each one becomes a `RunInterrupted`
exception raised where the task is (at a prompt, between steps), is passed to a running engine
once as SIGINT (so it can write its state and release its lock), or is held until the routing
check and the record are done.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable
from contextlib import contextmanager

from hubops.facts.errors import HubopsError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunInterrupted(HubopsError):
    """A stop signal arrived while no engine was running."""


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _handling(handler):
    """Install `handler` for every stop signal; restore the previous handlers after."""
    if not _in_main_thread():  # only the main thread may install handlers
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def stops_raise():
    """Within: a stop signal raises `RunInterrupted` where the task is."""

    def handler(signum, frame):
        raise RunInterrupted(f"Interrupted by {signal_name(signum)}.")

    with _handling(handler):
        yield


@contextmanager
def stops_held(say: Callable[[str], None]):
    """Within: stop signals are held (announced, not acted on) so that the work can finish."""

    def handler(signum, frame):
        say(
            f"hubops: {signal_name(signum)} received; finishing this run's checks and its record "
            "first."
        )

    with _handling(handler):
        yield


class ForwardStops:
    """While an engine runs: the first stop signal is passed to it once as SIGINT."""

    def __init__(self, process: subprocess.Popen, say: Callable[[str], None]):
        self.process = process
        self.say = say
        self.interrupted_by: str | None = None
        self._context = None

    def _handle(self, signum, frame) -> None:
        if self.interrupted_by:
            self.say("hubops: tofu was already asked to stop; waiting for it to finish cleanly.")
            return
        self.interrupted_by = signal_name(signum)
        self.say(
            f"hubops: {self.interrupted_by} received; passing an interrupt to tofu once and "
            "waiting for it to stop cleanly."
        )
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def __enter__(self):
        self._context = _handling(self._handle)
        self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

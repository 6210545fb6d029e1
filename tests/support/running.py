"""A background `invoke` (a real process, for signals, terminals and prompts), its output read as it
comes and waited on for a text."""

from __future__ import annotations

import codecs
import os
import re
import signal
import subprocess
import threading
import time

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # the engine colours its output even into a pipe


class Running:
    """A background `invoke`: its stdout and stderr collected as they come (colour codes removed),
    and waited on for a text, a prompt without its newline included."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self._texts: dict[int, str] = {}
        self._changed = threading.Condition()
        # By descriptor, kept: the streams are closed once read to their end.
        self._fds = {"stdout": process.stdout.fileno(), "stderr": process.stderr.fileno()}
        self._readers = [
            threading.Thread(target=self._read, args=(fd,), daemon=True)
            for fd in self._fds.values()
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, fd: int) -> None:
        # Raw reads of the pipe, not lines: a prompt waits for its answer without a newline.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := os.read(fd, 65536):
            with self._changed:
                self._texts[fd] = self._texts.get(fd, "") + decoder.decode(chunk)
                self._changed.notify_all()

    def _text(self, name: str) -> str:
        return _COLOUR.sub("", self._texts.get(self._fds[name], ""))

    def said(self) -> str:
        return self._text("stdout") + self._text("stderr")

    def wait_for(self, text: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while text not in self.said():
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None and not self._alive():
                    raise AssertionError(f"{text!r} never appeared; the run said:\n"
                                         f"{self.said()[-6000:]}")  # fmt: skip
                self._changed.wait(min(left, 0.2))

    def _alive(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        try:
            returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGABRT: with PYTHONFAULTHANDLER set (conftest), the run prints where it hangs
            self.process.send_signal(signal.SIGABRT)
            returncode = None
            self.process.wait()
        self._close()
        if returncode is None:
            raise AssertionError(f"the run did not end within {timeout:g}s; it said:\n"
                                 f"{self.said()[-6000:]}")  # fmt: skip
        return returncode, self._text("stdout"), self._text("stderr")

    def _close(self, timeout: float = 30) -> None:
        """Close the pipes whose reader read them to their end (the process ended; a child that
        outlives it may keep one open)."""
        streams = (self.process.stdout, self.process.stderr)
        for reader, stream in zip(self._readers, streams, strict=True):
            reader.join(timeout=timeout)
            if not reader.is_alive():
                stream.close()

    def stop(self) -> None:
        """End the run if it is still going: Ctrl-C first (the engine runs in a session of its
        own, so only hubops can stop it), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close(timeout=5)

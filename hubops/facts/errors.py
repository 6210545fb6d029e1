"""Domain exceptions. Only the task edge (`hubops.cli`) turns them into `invoke.Exit` messages."""

from hubops.facts.text import visible


class HubopsError(Exception):
    """A failure the operator can act on; its message says what went wrong and what to do next."""


class UnknownEnvironment(HubopsError):
    pass


class EnvironmentFileError(HubopsError):
    """An environment's files under environments/ENV/ are missing or malformed."""


class ToolMissing(HubopsError):
    pass


class TofuError(HubopsError):
    """`tofu` exited non-zero; carries the command, its exit status and the tail of its stderr."""

    def __init__(self, command: list[str], returncode: int, stderr_tail: str, hint: str = ""):
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        failed = f"`{' '.join(command)}` failed with exit status {returncode}"
        message = failed
        if stderr_tail:  # the engine's words, never its terminal controls
            message += f"; its last lines of stderr:\n{visible(stderr_tail)}"
        # Where its stderr was shown as it came (a terminal, a CI log), the error says so rather
        # than print it twice; the record and the job summary keep the whole message.
        self.brief = failed + (" (its errors are above)" if stderr_tail else "")
        if hint:
            message += f"\n{hint}"
            self.brief += f"\n{hint}"
        super().__init__(message)


class StateLocked(TofuError):
    """The state is locked by another run."""


class SettingError(HubopsError):
    """A `HUBOPS_*` setting that is malformed (hubops.facts.settings)."""


class PreflightError(HubopsError):
    """A precondition of a run does not hold; nothing was changed."""


class AwsError(HubopsError):
    """An AWS call failed for good; `code` is AWS's error code ("" for network faults)."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class ConfirmationError(HubopsError):
    """The operator did not confirm, or confirmed the wrong thing; nothing was changed."""


class RecordError(HubopsError):
    """A run record could not be written or read."""


class GitError(HubopsError):
    """git could not answer: not a repository, an unknown revision, or history missing."""

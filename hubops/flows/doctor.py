"""The doctor: everything a run needs, checked at once (tools, the engine's configuration, and for
an environment its AWS identity and state backend), as lines the task shows as they come."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError

# How a line reads: a heading, a check's result (`problem` counts against the run), a detail of the
# one before it, or an aside.
SECTION, OK, PROBLEM, OPTIONAL, SKIPPED, DETAIL, ASIDE = (
    "section", "ok", "problem", "optional", "skipped", "detail", "aside"
)  # fmt: skip


def doctor_lines(root: Path, env: Environment | None) -> Iterator[tuple[str, str]]:
    """(kind, text) of each line, in order; a backend report's lines keep their own status."""
    from hubops.adapters.engine_config import configuration_lines
    from hubops.adapters.tools import KNOWN_TOOLS, RUN_TOOLS, tool_status

    yield SECTION, "Tools"
    for name in KNOWN_TOOLS:
        status = tool_status(root, name)
        if status.ok:
            yield OK, status.line()
        else:
            yield (PROBLEM if name in RUN_TOOLS else OPTIONAL), status.problem
    yield SECTION, "Engine configuration"
    for ok, line in configuration_lines(env.name if env else None, bool(env and env.supervised)):
        yield (OK if ok else PROBLEM), line
    if env is None:
        yield (
            ASIDE,
            "pass --env ENV to also check that environment's AWS identity and state backend",
        )
        return
    yield from _identity_and_backend(env)


def identity_lines(env: Environment, identity) -> list[str]:
    """Who the shell is in AWS, beside where `env` is (`whoami` shows the same)."""
    region = identity.region or f"not set (hubops uses {env.region}, {env.name}'s region)"
    return [
        f"arn      {identity.arn}",
        f"account  {identity.account}  ({env.name} is in {env.account_id})",
        f"region   {region}  ({env.name} is in {env.region})",
    ]


def _identity_and_backend(env: Environment) -> Iterator[tuple[str, str]]:
    from hubops.adapters.identity import caller_identity, identity_problems
    from hubops.adapters.secrets import redact
    from hubops.bootstrap.backend import inspect_backend

    yield SECTION, f"AWS identity for {env.name}"
    try:
        identity = caller_identity(env)
    except HubopsError as exc:
        yield PROBLEM, redact(str(exc))
        identity = None
    else:
        for line in identity_lines(env, identity):
            yield DETAIL, line
        for problem in identity_problems(env, identity):
            yield PROBLEM, problem
    yield SECTION, f"State backend of {env.name}"
    if identity is None:
        # Every check after it would wait out the same fault (AWS out of reach: the retry bound
        # once more per check) to say the same thing.
        yield SKIPPED, "AWS could not be asked who you are (above): fix that first"
        return
    try:
        report = inspect_backend(env)
    except HubopsError as exc:
        yield PROBLEM, redact(str(exc))
        return
    for line in report.lines:
        yield line.status, line.text
    if not report.ok:
        yield DETAIL, f"(run `invoke backend --env {env.name}` to create what is missing)"

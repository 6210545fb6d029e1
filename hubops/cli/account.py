"""Tasks: backend, whoami, doctor (the AWS account, the state backend and the tools a run needs)."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
from hubops.adapters.secrets import redact
from hubops.cli.edge import ENV_HELP, ENV_OPTIONAL, env_name, environment, refused, task_edge


@task(
    help={
        "env": ENV_HELP,
        "check": "only report; exit 1 when something is missing or misconfigured",
    },
    optional=ENV_OPTIONAL,
)
def backend(c, env=None, check=False):
    """Make sure ENV's state backend exists as configured (KMS key, S3 bucket, lock).

    Prints what it found and what it created; a second run creates nothing. It first checks that
    your AWS credentials are ENV's account, so nothing is created in the wrong one.
    """
    from hubops.adapters.identity import verify_identity
    from hubops.bootstrap.backend import ensure_backend, inspect_backend

    _, environment_ = environment(env)
    with task_edge():
        verify_identity(environment_)
        report = inspect_backend(environment_) if check else ensure_backend(environment_)
    say(report.render())
    if not report.ok:
        raise refused(f"error: the state backend of {env} is not ready: {report.next_step(env)}.")
    if check:
        say(f"The state backend of {env} is ready.")
    elif report.created:
        say(f"Created or fixed {len(report.created)}; the state backend of {env} is ready.")
    else:
        say(f"Nothing to create: the state backend of {env} was already in place.")


@task(help={"env": ENV_HELP}, optional=ENV_OPTIONAL)
def whoami(c, env=None):
    """Show this shell's AWS account, ARN and region next to ENV's; exit 1 when they differ."""
    from hubops.adapters.identity import caller_identity, identity_problems

    _, environment_ = environment(env)
    with task_edge():
        identity = caller_identity(environment_)
    say("\n".join(_identity_lines(environment_, identity)))
    problems = identity_problems(environment_, identity)
    if problems:
        raise refused("\n".join(f"error: {p}" for p in problems))


@task(
    help={"env": "also check this environment's AWS identity and state backend"},
    optional=ENV_OPTIONAL,
)
def doctor(c, env=None):
    """Show at once everything a run needs: tools, and with --env, AWS identity and backend.

    Exits 1 when anything a run needs is missing or wrong; lines marked `problem` say what to do.
    """
    from hubops.adapters.engine_config import configuration_lines
    from hubops.adapters.environment_files import load_environment, project_root
    from hubops.adapters.identity import caller_identity, identity_problems
    from hubops.adapters.tools import KNOWN_TOOLS, RUN_TOOLS, tool_status
    from hubops.bootstrap.backend import inspect_backend
    from hubops.facts.errors import HubopsError

    if env is not None:
        env = env_name(env)
    with task_edge():
        root = project_root()
        environment_ = load_environment(root, env) if env else None
    failures = 0
    say("Tools")
    for name in KNOWN_TOOLS:
        status = tool_status(root, name)
        needed = name in RUN_TOOLS
        if status.ok:
            say(f"  ok       {status.line()}")
        else:
            label = "problem" if needed else "optional"
            say(f"  {label:<8} {status.problem}")
            failures += needed
    say("Engine configuration")
    supervised = environment_ is not None and environment_.supervised
    for ok, line in configuration_lines(env, supervised):
        say(f"  {'ok' if ok else 'problem':<8} {line}")
        failures += not ok
    if environment_ is None:
        say("(pass --env ENV to also check that environment's AWS identity and state backend)")
    else:
        say(f"AWS identity for {env}")
        try:
            identity = caller_identity(environment_)
        except HubopsError as exc:
            say(f"  problem  {redact(str(exc))}")
            failures += 1
            identity = None
        else:
            problems = identity_problems(environment_, identity)
            say("\n".join(f"  {line}" for line in _identity_lines(environment_, identity)))
            for problem in problems:
                say(f"  problem  {problem}")
            failures += len(problems)
        say(f"State backend of {env}")
        if identity is None:
            # Every check after it would wait out the same fault (AWS out of reach: the retry
            # bound once more per check) to say the same thing.
            say("  skipped  AWS could not be asked who you are (above): fix that first")
        else:
            try:
                report = inspect_backend(environment_)
            except HubopsError as exc:
                say(f"  problem  {redact(str(exc))}")
                failures += 1
            else:
                say("\n".join(f"  {line.render()}" for line in report.lines))
                failures += len(report.problems)
                if not report.ok:
                    say(f"  (run `invoke backend --env {env}` to create what is missing)")
    if failures:
        raise refused(f"error: {failures} problem(s) above; each says what to do.")
    say("All good.")


def _identity_lines(env, identity) -> list[str]:
    region = identity.region or f"not set (hubops uses {env.region}, {env.name}'s region)"
    return [
        f"arn      {identity.arn}",
        f"account  {identity.account}  ({env.name} is in {env.account_id})",
        f"region   {region}  ({env.name} is in {env.region})",
    ]


TASKS = [backend, whoami, doctor]

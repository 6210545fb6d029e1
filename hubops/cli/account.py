"""Tasks: backend, whoami, doctor (the AWS account, the state backend and the tools a run needs)."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
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
    from hubops.flows.doctor import identity_lines

    _, environment_ = environment(env)
    with task_edge():
        identity = caller_identity(environment_)
    say("\n".join(identity_lines(environment_, identity)))
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
    from hubops.adapters.environment_files import load_environment, project_root
    from hubops.flows.doctor import ASIDE, DETAIL, PROBLEM, SECTION, doctor_lines

    if env is not None:
        env = env_name(env)
    with task_edge():
        root = project_root()
        environment_ = load_environment(root, env) if env else None
    failures = 0
    for kind, text in doctor_lines(root, environment_):
        if kind == SECTION:
            say(text)
        elif kind == ASIDE:
            say(f"({text})")
        elif kind == DETAIL:
            say(f"  {text}")
        else:  # a check's result, or a backend report's own status
            say(f"  {kind:<8} {text}")
        failures += kind == PROBLEM
    if failures:
        raise refused(f"error: {failures} problem(s) above; each says what to do.")
    say("All good.")


TASKS = [backend, whoami, doctor]

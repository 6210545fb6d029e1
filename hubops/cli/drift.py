"""Task: drift (a refresh-only plan and the routing check; changes nothing)."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    LOCK_HELP,
    checked_lock_timeout,
    conclude,
    environment,
    task_edge,
)


@task(help={"env": ENV_HELP, "lock_timeout": LOCK_HELP}, optional=ENV_OPTIONAL)
def drift(c, env=None, lock_timeout="0s"):
    """Check, changing nothing, that ENV's real objects match its state and its routing holds.

    Exit statuses: 0 no drift and routing OK; 2 drift (what changed outside OpenTofu is listed);
    3 routing wrong or unverifiable (set the DNS record printed); 4 could not look (AWS
    credentials missing or expired, AWS unreachable); 1 failure (the refresh failed, a
    precondition). In GitHub Actions the result also goes to the job summary.
    """
    from hubops.adapters import github
    from hubops.cli import summaries
    from hubops.facts.errors import HubopsError
    from hubops.facts.outcome import Outcome
    from hubops.flows.drift import check_drift

    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    with task_edge():
        try:
            report = check_drift(root, environment_, lock_timeout=lock_timeout)
        except HubopsError as exc:
            github.add_to_summary(summaries.drift_not_checked(env, str(exc)))
            raise
    github.add_to_summary(summaries.drift(report))
    lines = summaries.drift_lines(report)
    if report.verdict is not None and not report.could_not_look:
        lines += report.routing_lines
    if lines:  # after tofu's own output, a blank line apart
        say("\n" + "\n".join(lines))
    message = None
    if report.outcome is Outcome.COULD_NOT_LOOK:
        what, unknown = (
            (env, "drift or DNS") if report.looked_at_nothing else (f"the routing of {env}", "DNS")
        )
        message = (
            f"error: could not look at {what}: {report.could_not_look}\n"
            f"Nothing was concluded about {unknown}: fix the AWS access (`invoke whoami --env "
            f"{env}`), then run drift again."
        )
    elif report.outcome is Outcome.FAILED:
        message = f"error: {report.refresh_error_shown or report.refresh_error}"
    conclude(report.outcome, message)


TASKS = [drift]

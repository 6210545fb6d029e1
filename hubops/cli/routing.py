"""Tasks: status and dns-check (the hub's routing, read from AWS and DNS, changing nothing)."""

from __future__ import annotations

import json

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    conclude,
    environment,
    refused,
    said,
    task_edge,
)
from hubops.cli.history import incident_text, run_line


@task(
    help={"env": ENV_HELP, "json": "print one JSON document instead of text"},
    optional=ENV_OPTIONAL,
)
def status(c, env=None, json_=False):
    """Show ENV's load balancer, what DNS answers for its domain, and the last run's record.

    It reports and exits 0 even when routing is not OK; `invoke dns-check` exits 3 for that.
    """
    from dataclasses import asdict

    from hubops.adapters.record_lookups import find_open_incident
    from hubops.adapters.routing_probe import take_snapshot
    from hubops.facts.verdict import check

    root, environment_ = environment(env)
    if not json_:  # before the snapshot, whose `$ tofu output -json` belongs under it
        say(f"Environment: {env} ({'supervised' if environment_.supervised else 'unsupervised'})")
    with task_edge():
        tofu, tofu_skipped = _optional_tofu(root, environment_)
        snapshot = take_snapshot(environment_, tofu)
    verdict = check(environment_, snapshot)
    # A store that cannot be read is named, never raised: the routing above is worth showing.
    incident, runs = find_open_incident(root, environment_)
    records_error = " ".join(runs.problems) or None  # one store may be unreadable
    last = runs[0] if runs else None
    checked = next((run for run in runs if getattr(run, "health", None) is not None), None)
    # As dns-check says it: an unsupervised environment never built has no routing to be wrong.
    with task_edge():
        no_hub = _no_hub_yet(root, environment_, snapshot)
    if json_:
        document = {
            "environment": env,
            "supervised": environment_.supervised,
            "snapshot": asdict(snapshot),
            "routing_ok": no_hub or not verdict.changed,
            "no_hub_yet": no_hub,
            "problems": verdict.findings,
            "last_run": last.listed() if last else None,
            "last_health": asdict(checked.health) | {"record": checked.name} if checked else None,
            "records_error": records_error,
            "tofu_cross_check_skipped": tofu_skipped or snapshot.cross_check_skipped,
            "could_not_look": snapshot.lookup_error,
            "open_incident": asdict(incident) if incident else None,
        }
        say(json.dumps(document, indent=2, sort_keys=True))
        return
    say(
        _status_text(
            environment_,
            snapshot,
            verdict,
            last,
            tofu_skipped,
            no_hub=no_hub,
            records_unread=bool(runs.problems),
        )
    )
    if checked:
        say(
            f"Last health check (the apply of {checked.started_at}, record {checked.name}): "
            + "\n".join(checked.health.lines(env))
        )
    if incident:
        say(incident_text(environment_, incident))
    if records_error:
        say(f"Run records could not be read: {records_error}")


@task(
    name="dns-check",
    help={
        "env": ENV_HELP,
        "wait": "ask the zone's authoritative name servers (past every cache) until the record "
        "points at the load balancer, then record the routing restored",
        "timeout": "with --wait: give up after this many seconds (default: 600, at most 14400)",
        "interval": "with --wait: seconds between looks (default: 10, at least 1)",
    },
    optional=ENV_OPTIONAL,
)
def dns_check(c, env=None, wait=False, timeout=None, interval=None):
    """Verify, read-only, that ENV's DNS points at its load balancer; exit 3 when it does not.

    With --wait (after an apply exited 3 and the record was set by hand): wait until the zone's
    authoritative servers give the right record, say how long resolvers may still serve the old
    one (its TTL), and write a "routing restored" run record that closes the open incident.
    Exit statuses: 0 routing OK (restored); 1 bad input, or the wait was interrupted (nothing
    recorded); 3 routing wrong or unverifiable (set the DNS record printed), or still wrong when
    --wait timed out; 4 could not look (AWS credentials missing or
    expired, AWS unreachable, or with --wait no authoritative server answered): nothing is known.
    """
    from hubops.adapters.routing_probe import take_snapshot
    from hubops.facts.outcome import Outcome
    from hubops.facts.verdict import check

    if not wait and (timeout is not None or interval is not None):
        raise refused("error: --timeout and --interval go with --wait.")
    root, environment_ = environment(env)
    if wait:
        _wait_for_restore(root, environment_, timeout, interval)
        return
    with task_edge():
        snapshot = take_snapshot(environment_)
        no_hub = _no_hub_yet(root, environment_, snapshot)
    if no_hub:
        say(
            f"No hub yet: no load balancer is tagged for {env}'s hub, and its run records show "
            "no apply since it was created or last destroyed, so there is no routing to check. "
            f"`invoke apply --env {env}` builds it."
        )
        return
    if snapshot.lookup_error:
        conclude(
            Outcome.COULD_NOT_LOOK,
            f"error: could not look at the routing of {env}: {snapshot.lookup_error}\n"
            f"Nothing was concluded about DNS: fix the AWS access (`invoke whoami --env {env}`), "
            "then run dns-check again.",
        )
    verdict = check(environment_, snapshot)
    say("\n".join(verdict.lines(environment_)))
    conclude(verdict.outcome)


def _no_hub_yet(root, env, snapshot) -> bool:
    """An unsupervised environment never built (or destroyed) has nothing to route. A supervised
    one keeps failing closed: its load balancer missing is an alarm, whatever the records say."""
    from hubops.adapters.records import history
    from hubops.facts.run_history import never_built

    if env.supervised or snapshot.load_balancers or snapshot.errors or snapshot.lookup_error:
        return False
    return never_built(history(root, env))


def _seconds(flag: str, value, default: float, *, least: float, most: float | None = None) -> float:
    """A --timeout or --interval value: a finite number of seconds from `least` to `most`."""
    from hubops.facts.settings import parse_number

    if value is None:
        return default
    number = parse_number(value, zero_ok=True)
    if number is None or number < least or (most is not None and number > most):
        bounds = f"from {least:g} to {most:g}" if most is not None else f"{least:g} or more"
        raise refused(f"error: {flag} takes a number of seconds {bounds}, not {value!r}.")
    return number


def _wait_for_restore(root, env, timeout, interval) -> None:
    """dns-check --wait: the restore after exit 3 (hubops.flows.restore), on the run frame."""
    from hubops.facts.outcome import Outcome
    from hubops.flows.restore import (
        DEFAULT_INTERVAL,
        DEFAULT_TIMEOUT,
        LEAST_INTERVAL,
        LONGEST_TIMEOUT,
        RestoreRun,
        ZoneNotFound,
    )
    from hubops.flows.run_frame import run_frame

    # The wait holds the environment's run lock: bounded, and never a busy loop against DNS.
    timeout = _seconds("--timeout", timeout, DEFAULT_TIMEOUT, least=0, most=LONGEST_TIMEOUT)
    interval = _seconds("--interval", interval, DEFAULT_INTERVAL, least=LEAST_INTERVAL)
    if not env.domain:
        raise refused(
            f"error: {env.name} has no domain, so there is no DNS record to wait for: its hub is "
            f"reached at the load balancer's address (`invoke status --env {env.name}`)."
        )
    run = RestoreRun(root, env, say)
    with task_edge(), run_frame(root, env, "dns-check --wait") as frame:
        with frame.recorded(run.result, say, run.record, run.closing):
            run.look_until_restored(timeout, interval)
    result, again = run.result, f"`invoke dns-check --env {env.name} --wait` again"
    if result.interrupted_by:
        conclude(
            result.outcome,
            f"error: {result.interrupted_by} The routing was not verified and nothing was "
            f"recorded: the routing incident, if any, stays open ({again} closes it).",
        )
    if isinstance(result.error, ZoneNotFound):
        conclude(
            result.outcome,
            f"error: could not look at the authoritative DNS of {env.domain}: {result.error}\n"
            "Nothing was concluded about DNS: check the resolver (HUBOPS_DNS_NAMESERVERS), "
            "then run dns-check --wait again.",
        )
    if result.outcome is Outcome.COULD_NOT_LOOK:
        conclude(
            result.outcome,
            f"error: could not look at the routing of {env.name}: {result.error}\n"
            "Nothing was concluded about DNS: the routing incident, if any, stays open. Fix "
            f"what is named above, then run {again}.",
        )
    if result.outcome is Outcome.ROUTING_CHANGED:
        wait = run.wait
        conclude(
            result.outcome,
            f"error: timed out after {wait.waited:.0f} s: the authoritative servers of "
            f"{run.zone.apex} do not all point {env.domain} at the load balancer yet. Last "
            "seen:\n"
            + "\n".join(f"  - {line}" for line in wait.last.seen(env.domain))
            + f"\nThe routing incident stays open: check the record you set, then run {again}.",
        )
    conclude(result.outcome, *(f"error: {said(e)}" for e in result.errors))
    if run.incident:
        say(f"Routing incident closed: {run.incident.describe()}.")
    for location in result.record_locations:
        say(f"Run record: {location}")


def _optional_tofu(root, env):
    """(tofu, None) for the output cross-check, or (None, why it is skipped): status needs none."""
    from hubops.adapters.tofu import Tofu
    from hubops.facts.errors import ToolMissing

    try:
        tofu = Tofu(root, env)
    except ToolMissing as exc:
        return None, str(exc)
    if not tofu.initialised:
        return None, f"not initialised here; `invoke plan --env {env.name}` initialises it"
    return tofu, None


def _status_text(env, snapshot, verdict, last, tofu_skipped, *, no_hub, records_unread) -> str:
    lines = []
    if snapshot.lookup_error:
        lines.append(f"Load balancer: not known, AWS could not be asked ({snapshot.lookup_error})")
    elif snapshot.load_balancers:
        for lb in snapshot.load_balancers:
            addresses = ", ".join(snapshot.load_balancer_addresses.get(lb.hostname, [])) or "-"
            lines.append(f"Load balancer: {lb.hostname} ({lb.kind}; addresses {addresses})")
    elif not snapshot.front_doors:
        lines.append("Load balancer: none found")
    lines += _front_door_lines(env, snapshot)
    if snapshot.output_hostname:
        lines.append(f"tofu output hub_load_balancer_hostname: {snapshot.output_hostname}")
    elif tofu_skipped or snapshot.cross_check_skipped:
        lines.append(
            f"tofu output cross-check: skipped ({tofu_skipped or snapshot.cross_check_skipped})"
        )
    if env.domain and snapshot.dns:
        dns = snapshot.dns
        answer = " -> ".join(dns.cname_chain + [", ".join(dns.addresses) or "(no address)"])
        lines.append(f"DNS {env.domain}: {answer if dns.ok else dns.detail}")
    elif len(snapshot.hostnames) == 1:
        lines.append(f"Hub address: http://{snapshot.hostnames[0]}")
    if no_hub:
        lines.append(
            "Routing: none to check (no hub yet: its run records show no apply since it was "
            f"created or last destroyed; `invoke apply --env {env.name}` builds it)"
        )
    elif snapshot.lookup_error:
        lines.append(
            "Routing: NOT VERIFIED (AWS could not be asked for the load balancer: "
            f"`invoke whoami --env {env.name}` checks your access)"
        )
    else:
        lines.append(
            "Routing: OK"
            if not verdict.changed
            else "Routing: NOT OK\n" + "\n".join(f"  - {finding}" for finding in verdict.findings)
        )
    if last:
        lines.append(f"Last run: {run_line(last)}")
    else:  # as history says it: unreadable records are no proof of none
        lines.append(
            "Last run: not known (the run records could not be read)"
            if records_unread
            else "Last run: none recorded"
        )
    return "\n".join(lines)


def _front_door_lines(env, snapshot) -> list[str]:
    """The hub's own front door (front_door "both" or "alb"), and whether DNS points at it."""
    if snapshot.lookup_error or not (snapshot.front_doors or snapshot.front_door_output):
        return []
    if not snapshot.front_doors:
        return [f"Front door: {snapshot.front_door_output} (tofu output), not found in AWS"]
    lines = []
    for door in snapshot.front_doors:
        addresses = ", ".join(snapshot.load_balancer_addresses.get(door.hostname, [])) or "-"
        lines.append(f"Front door: {door.hostname} (application load balancer; {addresses})")
    if env.domain and snapshot.dns:
        if snapshot.dns_points_at_any(snapshot.front_door_hostnames):
            lines.append(f"DNS {env.domain} points at the front door.")
        elif snapshot.dns_points_at_any(snapshot.service_hostnames):
            lines.append(
                f"DNS {env.domain} points at the Service's load balancer, not yet at the front "
                "door."
            )
        else:
            lines.append(
                f"DNS {env.domain} points at neither the front door nor the Service's load "
                "balancer."
            )
    return lines


TASKS = [status, dns_check]

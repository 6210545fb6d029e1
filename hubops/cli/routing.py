"""Tasks: plan, apply, status, dns-check, history (the supervised apply and its routing checks)."""

from __future__ import annotations

import json

from invoke import task

from hubops.adapters.output import say, warn
from hubops.adapters.secrets import redact
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    EXIT_STATUS,
    LOCK_HELP,
    checked_lock_timeout,
    conclude,
    environment,
    refused,
    said,
    task_edge,
)


@task(
    help={
        "env": ENV_HELP,
        "out": "a plan for review: write it to this new file (refused if it exists), from a clean "
        "checkout only, with its origin (commit, shared tree, sha256) in FILE.json beside it "
        "(default: a new file under .hubops/plans/ENV/, a preview that cannot be applied)",
        "upload": "with --out: also keep the plan in ENV's state bucket "
        "(plans/ENV/COMMIT-SHA256.tfplan, encrypted with the state's KMS key), for "
        "`invoke apply --plan-s3`",
        "lock_timeout": LOCK_HELP,
        "detailed_exitcode": "exit 2 when the plan holds changes, 0 when none (as tofu's)",
        "json": "print one JSON document (summary, forecast, plan file and sha256); tofu's own "
        "output goes to stderr",
    },
    optional=ENV_OPTIONAL,
)
def plan(
    c, env=None, out=None, upload=False, lock_timeout="0s", detailed_exitcode=False, json_=False
):
    """Plan ENV to a saved plan file (readable by you only) and summarise it, with its sha256.

    In GitHub Actions it also sets the step outputs plan_file and plan_sha256 (and plan_s3 with
    --upload) and adds the summary to the job summary, so that a reviewed job can apply exactly
    this plan.
    """
    from dataclasses import asdict
    from pathlib import Path

    from hubops.adapters import github
    from hubops.adapters.output import say
    from hubops.adapters.saved_plan import SavedPlan, new_plan_path
    from hubops.facts.forecast import forecast
    from hubops.facts.outcome import Outcome
    from hubops.facts.plan_summary import summarize
    from hubops.flows.reviewed_plan import origin_of, sidecar, write_sidecar
    from hubops.flows.reviewed_plan import upload as keep_in_bucket
    from hubops.flows.run_frame import run_frame

    if upload and not out:
        raise refused("error: --upload goes with --out FILE: only a plan for review is kept.")
    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    path = Path(out).absolute() if out else new_plan_path(root, env)
    for existing in (path, sidecar(path)) if out else ():
        if existing.exists() or existing.is_symlink():
            raise refused(
                f"error: {existing} already exists: give --out a new file name (a plan for "
                "review is never written over another file). Nothing was planned."
            )
    with task_edge(), run_frame(root, environment_, "plan") as frame:
        # A plan for review is applied later as it is: only from exactly a commit.
        checked = frame.preflight(deploying=bool(out))
        commit = checked.commit
        tofu = checked.engine(lock_timeout=lock_timeout, relay_to_stderr=json_)
        changes = tofu.plan(path)
        saved = SavedPlan.of(path)
        summary = summarize(tofu.show_plan(saved.path))
        if out:
            origin = origin_of(root, environment_, commit, saved.sha256)
            write_sidecar(path, origin)
            location = keep_in_bucket(environment_, path, origin) if upload else None
    routing_forecast = forecast(summary)
    if json_:
        document = {
            "environment": env,
            "changes": changes,
            "summary": asdict(summary),
            "forecast": asdict(routing_forecast),
            "plan_file": str(saved.path),
            "plan_sha256": saved.sha256,
        }
        if out:
            document["commit"] = commit
            document["origin_file"] = str(sidecar(path))
            document["plan_s3"] = location
        say(json.dumps(document, indent=2))
    else:
        say(summary.render())
        say("\n".join(routing_forecast.lines(env, environment_.supervised)))
        say(f"Saved plan: {saved.path} (sha256 {saved.sha256})")
        if out:
            say(f"Made at commit {commit} for review; its origin: {sidecar(path)}")
            if location:
                say(f"Kept at {location} (encrypted with the state's KMS key)")
        else:
            say(
                "A preview: apply it with `invoke apply`, which plans anew (only `--out` makes a "
                "plan for review)."
            )
    with task_edge():
        if out and location:
            github.set_outputs(plan_s3=location)
        github.set_outputs(plan_file=str(saved.path), plan_sha256=saved.sha256)
    github.add_to_summary(
        summary.markdown(f"Plan of {env} (sha256 `{saved.sha256}`)")
        + "\n\n"
        + "\n".join(f"    {line}" for line in routing_forecast.lines(env, environment_.supervised))
    )
    if detailed_exitcode and changes:
        conclude(Outcome.CHANGES_PLANNED)


@task(
    help={
        "env": ENV_HELP,
        "yes": "apply without asking (CI: the reviewed GitHub environment is the human gate)",
        "lock_timeout": LOCK_HELP,
        "plan_file": "apply this saved plan (from `invoke plan --out`) instead of planning anew: "
        "only at the commit it was made at (FILE.json beside it says which)",
        "plan_s3": "apply the plan kept at this s3:// location (from `invoke plan --out FILE "
        "--upload`), fetched to a private file, as --plan-file",
        "plan_sha256": "with --plan-file or --plan-s3: the sha256 the plan had when it was "
        "reviewed; any other content is refused",
        "allow_destroy": "a protected resource (user directories, their keys, the user pool, "
        "the cluster, the hub's database) the plan may delete or replace; repeat for each; "
        "recorded",
        "rollback": "let a supervised apply go back to (or aside from) the last applied commit; "
        "recorded",
        "untested_shared_tree": "emergency: let a supervised apply take modules/ or root files "
        "its predecessor (cae-dev for cae) has not applied successfully; recorded",
    },
    iterable=["allow_destroy"],
    optional=ENV_OPTIONAL,
)
def apply(
    c,
    env=None,
    yes=False,
    lock_timeout="0s",
    plan_file=None,
    plan_sha256=None,
    allow_destroy=None,
    rollback=False,
    untested_shared_tree=False,
    plan_s3=None,  # last: the short flags given before it (-a for --allow-destroy) stay
):
    """Plan and apply ENV under the drift-safety checks; exit 3 if routing changed (supervised).

    Exit statuses: 0 success; 1 failure (including refusing to start); 3 the routing of a
    supervised environment changed or could not be verified: set the DNS record printed.
    In GitHub Actions it also writes the job summary: outcome, DNS record, verdict, plan,
    forecast and run record.
    """
    from pathlib import Path

    from hubops.adapters import github
    from hubops.adapters.output import say
    from hubops.cli.confirmation import ask_for_name, require_terminal
    from hubops.facts.forecast import HIGH
    from hubops.facts.outcome import Outcome
    from hubops.flows import apply_summary
    from hubops.flows.guarded_apply import ApplyRequest, guarded_apply

    refused = EXIT_STATUS[Outcome.FAILED]

    message = None
    if _without_address(allow_destroy):
        message = (
            "error: --allow-destroy needs the address of a protected resource the plan may delete "
            "or replace, as a refusal names it (e.g. --allow-destroy "
            "'module.user_directories[0].aws_efs_file_system.home'); repeat it for each. Nothing "
            "was applied."
        )
    elif plan_file and plan_s3:
        message = "error: --plan-file or --plan-s3, not both: name one reviewed plan."
    elif bool(plan_file or plan_s3) != bool(plan_sha256):
        message = (
            "error: --plan-file (or --plan-s3) and --plan-sha256 go together: the sha256 is the "
            "one printed by `invoke plan` when the plan was reviewed. Nothing was applied."
        )
    if message:
        github.add_to_summary(apply_summary.not_started(str(env), message, refused))
        conclude(Outcome.FAILED, message)
    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    asks = not yes
    if asks:
        with task_edge(), apply_summary.refusals_summarised(env, refused):
            require_terminal(
                f"{env} is supervised and asks for confirmation, but no terminal is attached: run "
                "it from a terminal, or pass --yes where a reviewed GitHub environment is the gate."
                if environment_.supervised
                else f"applying {env} asks for confirmation, but no terminal is attached: pass "
                "--yes to apply without asking. Nothing was applied."
            )

    def confirm(summary, routing_forecast):
        if not asks:
            return
        if not environment_.supervised:  # as `tofu apply` asks
            expected = "yes"
            prompt = "Do you want to perform these actions? Only 'yes' will be accepted: "
        elif routing_forecast.risk == HIGH:  # typing it says: DNS access is at hand
            expected = f"{env} dns-ready"
            prompt = (
                f"This plan can move the hub's traffic. Type {expected!r} to apply it to {env} "
                "(supervised): "
            )
        else:
            expected = env
            prompt = f"Type {env!r} to apply this plan to {env} (supervised): "
        ask_for_name(expected, prompt, "nothing was applied")

    request = ApplyRequest(
        lock_timeout=lock_timeout,
        # absolute, not resolved: a symbolic link is refused, never followed
        plan_file=Path(plan_file).absolute() if plan_file else None,
        plan_s3=plan_s3,
        plan_sha256=plan_sha256,
        allow_destroy=tuple(allow_destroy or ()),
        rollback=rollback,
        untested_shared_tree=untested_shared_tree,
    )
    with task_edge(), apply_summary.refusals_summarised(env, refused):
        result = guarded_apply(root, environment_, confirm=confirm, say=say, request=request)
    github.add_to_summary(  # in GitHub Actions
        apply_summary.markdown(environment_, result, EXIT_STATUS[result.outcome])
    )
    if result.record.verdict is not None:
        say("\n".join(result.record.verdict.lines(environment_)))
    for location in result.record_locations:
        say(f"Run record: {location}")
    messages = [f"error: {said(e)}" for e in result.errors]
    if result.outcome is Outcome.ROUTING_CHANGED:
        messages.append(f"error: the routing of {env} changed: update DNS by hand (above).")
    conclude(result.outcome, *messages)


def _without_address(allow_destroy) -> bool:
    """`--allow-destroy` given empty, or bare: invoke hands a bare one (it takes a list) to the
    task as no flag at all, so the command line itself is looked at."""
    import sys

    if allow_destroy:
        return any(not address.strip() for address in allow_destroy)
    given = sys.argv[sys.argv.index("apply") + 1 :] if "apply" in sys.argv else []
    return any(arg in ("--allow-destroy", "-o") for arg in given)


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
    if incident:
        say(_incident_text(environment_, incident))
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
        with frame.recorded(run.result, say, run.closing):
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


@task(
    help={
        "env": ENV_HELP,
        "limit": "show at most this many runs (default: 20)",
        "json": "print the records as a JSON list",
    },
    optional=ENV_OPTIONAL,
)
def history(c, env=None, limit="20", json_=False):
    """List ENV's recorded runs, newest first."""
    from hubops.adapters.records import history as read_history

    if not str(limit).isdigit() or int(limit) < 1:
        raise refused(f"error: --limit takes a whole number of runs, 1 or more, not {limit!r}.")
    from hubops.adapters.record_lookups import find_open_incident
    from hubops.facts.incidents import closed_by

    root, environment_ = environment(env)
    with task_edge():
        runs = read_history(root, environment_, limit=int(limit))
    for problem in runs.problems:  # a store or a record that could not be read
        warn(f"warning: {problem}")
    if not runs and runs.problems:  # "no recorded runs" would be a guess
        raise refused(
            f"error: the run records of {env} could not all be read (above), and none that "
            f"could shows a run: whether {env} has runs is not known. Fix the access (`invoke "
            f"whoami --env {env}`), then run history again."
        )
    # All the records it takes (--limit aside): the incident may be older than the runs shown.
    incident, _ = find_open_incident(root, environment_)
    incidents = closed_by(runs)

    def incident_state(run) -> str | None:
        if run.name not in incidents:
            return None
        return "open" if incident and incident.name == run.name else "closed"

    def listed(run) -> dict:
        shown = run.listed()
        if state := incident_state(run):
            shown["incident_state"] = state
        return shown

    if json_:  # records written before a credential was known to hubops are redacted here too
        say(redact(json.dumps([listed(run) for run in runs], indent=2, sort_keys=True)))
        return
    if incident:
        say(_incident_text(environment_, incident))
    if not runs:
        say(f"No recorded runs for {env}.")
        return
    say(f"Runs of {env}, newest first (plan +/~/-/±: resources added/changed/destroyed/replaced):")
    for run in runs:
        say(_run_line(run, incident_state(run)))


def _incident_text(env, incident) -> str:
    """An open routing incident, and what closes it."""
    to_set = f"; the record to set: {incident.dns_record}" if incident.dns_record else ""
    return (
        f"Open routing incident: {incident.describe()}{to_set}\n"
        f"  Once DNS points at the load balancer, `invoke dns-check --env {env.name} --wait` "
        "closes it."
    )


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


def _forecast_word(run) -> str:
    """The run's forecast beside its outcome: history then shows how often a risk came true."""
    from hubops.facts.run_record import ApplyRecord

    return (
        f"forecast {run.forecast.risk}, " if isinstance(run, ApplyRecord) and run.forecast else ""
    )


def _restore_line(run) -> str:
    return (
        f"{run.started_at}  exit {_exit(run)}  {run.commit[:12]}  {run.operator}  "
        "restore: routing restored at the authoritative servers"
        + (f" (TTL {run.ttl} s)" if run.ttl is not None else "")
        + (f", closes incident {run.closes_incident}" if run.closes_incident else "")
        + _where(run)
    )


def _exit(run) -> str:
    return "?" if run.outcome is None else str(EXIT_STATUS[run.outcome])


def _run_line(run, incident_state: str | None = None) -> str:
    """One run of `history` (and `status`'s last run)."""
    from hubops.facts.plan_summary import PlanSummary
    from hubops.facts.run_record import RESTORE, ApplyRecord

    if run.operation == RESTORE:
        return _restore_line(run)
    if not isinstance(run, ApplyRecord) or run.verdict is None:  # a destroy judges no routing
        outcome = "routing not checked"
    else:
        outcome = "routing changed" if run.verdict.changed else "routing unchanged"
    plan = run.plan or PlanSummary()
    counts = "/".join(str(len(c)) for c in (plan.add, plan.change, plan.destroy, plan.replace))
    return (
        f"{run.started_at}  exit {_exit(run)}  {run.commit[:12]}  {run.operator}  "
        f"{run.operation}  plan +/~/-/± {counts}  {_forecast_word(run)}{outcome}"
        + ("  (interrupted)" if run.interrupted else "")
        + (f"  (overrides: {', '.join(_overrides(run))})" if _overrides(run) else "")
        + (f"  (incident {incident_state})" if incident_state else "")
        + ("  (closes an incident)" if run.verified_routing else "")
        + _where(run)
    )


def _where(run) -> str:
    """Where the record was read, after why its time is suspect where it is."""
    suspect = f"  (time suspect: {run.time_suspect})" if run.time_suspect else ""
    return f"{suspect}  [{run.source}]"


def _overrides(run) -> list[str]:
    """The guard's checks this run was told to let pass (each recorded), as the flags said it."""
    from hubops.facts.protected import ALLOW_FLAG
    from hubops.facts.run_record import ApplyRecord
    from hubops.flows.lineage import ROLLBACK_FLAG
    from hubops.flows.parity import OVERRIDE_FLAG

    if not isinstance(run, ApplyRecord):  # only an apply is given overrides
        return []
    given = [ROLLBACK_FLAG] if run.rollback else []
    if run.parity is not None and run.parity.override:
        given.append(OVERRIDE_FLAG)
    return given + [f"{ALLOW_FLAG} '{address}'" for address in run.acknowledged_destroys or []]


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
        lines.append(f"Last run: {_run_line(last)}")
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


TASKS = [plan, apply, status, dns_check, history]

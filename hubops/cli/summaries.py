"""Every summary the tasks render from a flow's facts: the GitHub job summaries (apply, plan,
drift, changes) and drift's lines for the terminal. Flows return facts; only here are they drawn.

CI reads what the tool writes for it, never its human output: when `GITHUB_STEP_SUMMARY` is set,
`invoke apply` appends one section saying what happened (headline and exit status), the DNS record
to set by hand (when there is one), the error, the routing verdict, the plan as a table, the
routing forecast and where the run record went. A run refused before it started gets a section
too. It is rendered from the run's facts (the record, the verdict's fields), never from the text
the operator reads; `hubops.adapters.github` writes it.
"""

from __future__ import annotations

from contextlib import contextmanager

from hubops.adapters import github
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.facts.forecast import LOW, Forecast
from hubops.facts.health import HealthResult
from hubops.facts.markdown import cell, code, fenced, words
from hubops.facts.outcome import Outcome
from hubops.facts.plan_summary import PlanSummary
from hubops.facts.verdict import Verdict
from hubops.flows.changes import ChangeReport
from hubops.flows.drift import DriftReport
from hubops.flows.runs import RunResult


@contextmanager
def refusals_summarised(env_name: str, exit_status: int):
    """A refusal raised inside (a `HubopsError`) is summarised, then raised on."""
    try:
        yield
    except HubopsError as exc:
        github.add_to_summary(apply_not_started(env_name, f"error: {exc}", exit_status))
        raise


def apply_not_started(env_name: str, error: str, exit_status: int) -> str:
    """An apply refused before anything ran (exiting `exit_status`): no plan, no record."""
    return "\n".join(
        [
            f"## {env_name}: the apply did not start",
            "",
            f"Exit status {exit_status}: nothing was applied.",
            "",
            "### Error",
            "",
            fenced(error),
        ]
    )


def apply(env: Environment, result: RunResult, exit_status: int) -> str:
    """The whole section for a run that got as far as its record, which exited `exit_status`."""
    record = result.record
    parts = [
        f"## {_headline(env, result)}",
        "",
        f"Exit status {exit_status} · commit `{record.commit[:12]}`",
    ]
    verdict = record.verdict
    if verdict is not None and verdict.dns_record:
        parts += ["", "### DNS record to set", "", fenced(verdict.dns_record)]
    errors = [str(e) for e in result.errors]
    if errors:
        parts += ["", "### Error", "", fenced("\n".join(errors))]
    if verdict is not None:
        parts += ["", "### Routing", "", *_verdict_lines(env, verdict)]
    if record.health is not None:
        parts += ["", health(env, record.health)]
    if record.plan is not None:
        parts += ["", record.plan.markdown(f"Plan (sha256 `{record.plan_sha256}`)")]
    if record.forecast is not None:
        parts += ["", *_forecast_lines(env, record.forecast)]
    parts += ["", "### Run record", ""]
    parts += [f"- {code(location)}" for location in result.record_locations] or [
        "- not written (see the error above)"
    ]
    return "\n".join(parts)


def _headline(env: Environment, result: RunResult) -> str:
    record, verdict = result.record, result.record.verdict
    if result.outcome is Outcome.ROUTING_CHANGED:
        return f"{env.name}: the routing changed. Set the DNS record by hand"
    if result.outcome is Outcome.UNHEALTHY:
        return f"{env.name}: applied, routing unchanged, but users may not be able to log in"
    if record.interrupted:
        return f"{env.name}: the apply was interrupted"
    if result.error is not None:
        applied = "" if record.applied else " (nothing was applied)"
        return f"{env.name}: the apply failed{applied}"
    if result.record_error is not None:
        return f"{env.name}: applied, but the run record could not be written"
    changed = verdict is not None and verdict.changed
    routing = "the routing changed" if changed else "routing unchanged"
    if not record.applied:
        return f"{env.name}: no changes to apply; {routing}"
    return f"{env.name}: applied; {routing}"


def _verdict_lines(env: Environment, verdict: Verdict) -> list[str]:
    """The verdict as the operator reads it, findings as a list; the record is shown above."""
    lines = [words(verdict.headline(env))]
    lines += [f"- {words(finding)}" for finding in verdict.findings]
    if verdict.dns_record:
        lines += ["", "Set the DNS record above by hand so that users can log in."]
    elif advice := verdict.advice(env):
        lines += ["", words(advice)]
    return lines


def _forecast_lines(env: Environment, forecast: Forecast) -> list[str]:
    if forecast.risk == LOW:
        return [
            "### Routing forecast: low",
            "",
            f"No change of this plan is known to move {env.name}'s traffic.",
        ]
    lines = [f"### Routing forecast: {forecast.risk}", "", "| risk | address | why |"]
    lines.append("| --- | --- | --- |")
    lines += [
        f"| {risk} | {cell(address)} | {words(why)} |"
        for address, (risk, why) in forecast.reasons.items()
    ]
    return lines


def plan(env: Environment, summary: PlanSummary, sha256: str, forecast: Forecast) -> str:
    """A plan made for review: its table and its routing forecast."""
    forecast_lines = forecast.lines(env.name, env.supervised)
    return (
        summary.markdown(f"Plan of {env.name} (sha256 `{sha256}`)")
        + "\n\n"
        + "\n".join(f"    {line}" for line in forecast_lines)
    )


def changes(report: ChangeReport) -> str:
    """Which environments a range of commits rebuilds."""
    return f"### Environments to rebuild\n\n{fenced(report.render())}"


def drift_not_checked(env_name: str, error: str) -> str:
    return f"### Drift of {env_name}: not checked\n\n{_block(error)}"


def drift(report: DriftReport) -> str:
    """The drift check's result, whatever it is."""
    titles = {
        Outcome.OK: "no drift, routing holds",
        Outcome.DRIFTED: f"{_count(report.drift or [])} changed outside OpenTofu",
        Outcome.ROUTING_CHANGED: "the routing does not hold: update DNS by hand",
        Outcome.COULD_NOT_LOOK: "could not look (AWS could not be asked)",
        Outcome.FAILED: "the refresh failed",
    }
    parts = [f"### Drift of {report.env_name}: {titles[report.outcome]}"]
    if report.drift:
        rows = [f"| {cell(i.address)} | {i.action} |" for i in report.drift]
        parts.append("\n".join(["| resource | drift |", "|---|---|", *rows]))
    elif report.drift is not None:
        parts.append("The real objects match the state.")
    if report.refresh_error:
        parts.append(f"The refresh-only plan failed:\n\n{_block(report.refresh_error)}")
    if report.could_not_look:
        parts.append(
            f"AWS could not be asked:\n\n{_block(report.could_not_look)}\n\nNothing was "
            f"concluded about {'drift or ' if report.looked_at_nothing else ''}DNS: fix the "
            "role's access, then run the check again."
        )
    elif report.routing_lines:
        parts.append(f"Routing:\n\n{_block(chr(10).join(report.routing_lines))}")
    return "\n\n".join(parts)


def drift_lines(report: DriftReport) -> list[str]:
    """What the terminal shows of drift (the routing's lines are the verdict's own)."""
    env = report.env_name
    if report.looked_at_nothing:
        return []
    if report.drift is None:
        return [f"Drift of {env}: not known, the refresh-only plan failed (below)."]
    if not report.drifted:
        return [f"No drift: the real objects of {env} match its state."]
    lines = [
        f"Drift: {_count(report.drift)} of {env} changed outside OpenTofu "
        "(the state no longer describes them):"
    ]
    lines += [f"  {item.action}  {item.address}" for item in report.drift]
    lines.append(
        f"Nothing was changed. `invoke plan --env {env}` shows what an apply would do about "
        "it; or change the configuration to match."
    )
    return lines


def _count(items: list) -> str:
    return f"{len(items)} resource{'' if len(items) == 1 else 's'}"


def _block(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def health(env: Environment, result: HealthResult) -> str:
    """The health check: its verdict, then each step with its time."""
    rows = [
        f"| {'ok' if step.ok else '**failed**'} | {cell(step.name)} | {cell(step.address or '')} "
        f"| {step.seconds:.2f} s | {cell(step.said if step.ok else _failure(step))} |"
        for step in result.steps
    ]
    table = ["| | step | address | time | found |", "|---|---|---|---|---|", *rows]
    return "\n".join(
        [f"### Health of {env.name}", "", words(result.headline(env.name)), "", *table]
    )


def _failure(step) -> str:
    parts = [step.said, f"expected {step.expected}" if step.expected else None]
    parts += [f"got {step.got}" if step.got else None, f"to do: {step.todo}" if step.todo else None]
    return "; ".join(part for part in parts if part)

"""The GitHub job summary of one `invoke apply`, written by the task itself for every outcome.

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
from hubops.facts.markdown import cell, code, fenced, words
from hubops.facts.outcome import Outcome
from hubops.facts.verdict import Verdict
from hubops.flows.runs import RunResult


@contextmanager
def refusals_summarised(env_name: str, exit_status: int):
    """A refusal raised inside (a `HubopsError`) is summarised, then raised on."""
    try:
        yield
    except HubopsError as exc:
        github.add_to_summary(not_started(env_name, f"error: {exc}", exit_status))
        raise


def not_started(env_name: str, error: str, exit_status: int) -> str:
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


def markdown(env: Environment, result: RunResult, exit_status: int) -> str:
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

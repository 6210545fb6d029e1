"""The GitHub job summary of one `invoke apply`, written by the task itself for every outcome.

CI reads what the tool writes for it, never its human output: when `GITHUB_STEP_SUMMARY` is set,
`invoke apply` appends one section saying what happened (headline and exit status), the DNS record
to set by hand (when there is one), the error, the routing verdict, the plan as a table, the
routing forecast and where the run record went. A run refused before it started gets a section
too. Writing it never changes the run's outcome: a summary file that cannot be written is warned
about, nothing more.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from hubops.adapters import github
from hubops.adapters.output import warn
from hubops.adapters.secrets import redact
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.facts.forecast import LOW, Forecast
from hubops.facts.markdown import cell, code, words
from hubops.facts.verdict import EXIT_ROUTING_CHANGED, Verdict
from hubops.flows.runs import RunResult


def write(markdown: str) -> None:
    """Append to the job summary (outside GitHub Actions, nothing); never raises."""
    try:
        github.add_to_summary(redact(markdown))
    except OSError as exc:
        warn(f"warning: the job summary could not be written ({exc.strerror or exc}).")


@contextmanager
def refusals_summarised(env_name: str):
    """A refusal raised inside (a `HubopsError`) is summarised, then raised on."""
    try:
        yield
    except HubopsError as exc:
        write(not_started(env_name, f"error: {exc}"))
        raise


def not_started(env_name: str, error: str) -> str:
    """An apply refused before anything ran: no plan, no record."""
    return "\n".join(
        [
            f"## {env_name}: the apply did not start",
            "",
            "Exit status 1: nothing was applied.",
            "",
            "### Error",
            "",
            _fenced(error),
        ]
    )


def markdown(env: Environment, result: RunResult) -> str:
    """The whole section for a run that got as far as its record."""
    record = result.record
    parts = [f"## {_headline(env, result)}", "", _status_line(result)]
    verdict = record.verdict
    if verdict is not None and verdict.dns_record:
        parts += ["", "### DNS record to set", "", _fenced(verdict.dns_record)]
    errors = [str(e) for e in (result.error, result.record_error) if e is not None]
    if errors:
        parts += ["", "### Error", "", _fenced("\n".join(errors))]
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
    if result.exit_status == EXIT_ROUTING_CHANGED:
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


def _status_line(result: RunResult) -> str:
    return f"Exit status {result.exit_status} · commit `{result.record.commit[:12]}`"


def _verdict_lines(env: Environment, verdict: Verdict) -> list[str]:
    """The verdict as the operator reads it, findings as a list; the record is shown above."""
    lines = []
    for line in verdict.lines(env):
        if line.startswith("  - "):
            lines.append(f"- {words(line[4:])}")
        elif verdict.dns_record and line.strip() == verdict.dns_record:
            continue
        elif line.startswith("Set this DNS record by hand"):
            lines += ["", "Set the DNS record above by hand so that users can log in."]
        else:
            lines += ([""] if lines else []) + [words(line)]
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


def _fenced(text: str) -> str:
    """A code block whose fence no run of backticks in `text` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"

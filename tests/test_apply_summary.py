"""`invoke apply` writes the GitHub job summary itself (GITHUB_STEP_SUMMARY), for every outcome:
what happened, the DNS record to set, the error, the verdict, the plan, the forecast, the record."""

from __future__ import annotations

import pytest

NODE_GROUP = 'module.eks.aws_eks_node_group.this["main"]'
CERTIFICATE = "module.hub.aws_acm_certificate.hub"


@pytest.fixture
def summary_of(hub_world, tmp_path):
    """(hub, summary file): a hub whose `invoke` runs are in GitHub Actions' shoes."""

    def make(env_name: str):
        hub = hub_world(env_name)
        summary = tmp_path / "step-summary.md"
        hub.environ["GITHUB_STEP_SUMMARY"] = str(summary)
        return hub, summary

    return make


def record_list(record_locations: list[str]) -> str:
    return "".join(f"- `{location}`\n" for location in record_locations)


def locations(result) -> list[str]:
    return [
        line.removeprefix("Run record: ")
        for line in result.stdout.splitlines()
        if line.startswith("Run record: ")
    ]


def test_a_routing_change_puts_the_dns_record_first_then_verdict_plan_forecast_and_record(
    summary_of,
):
    hub, summary = summary_of("cae")
    hub.replace_node_group("replace_hub_load_balancer")

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 3
    [new] = hub.hub_hostnames()
    [record] = hub.records()
    old = hub.hostname
    assert summary.read_text() == (
        "## cae: the routing changed. Set the DNS record by hand\n\n"
        f"Exit status 3 · commit `{record['commit'][:12]}`\n\n"
        "### DNS record to set\n\n"
        f"```\nhub.example.org CNAME {new}  (was {old})\n```\n\n"
        "### Routing\n\n"
        "Routing changed or could not be verified for cae:\n"
        f"- load balancer replaced: was {old}, now {new}\n"
        f"- DNS for hub.example.org points at {old}, not at the load balancer {new}\n\n"
        "Set the DNS record above by hand so that users can log in.\n\n"
        f"### Plan (sha256 `{record['plan_sha256']}`)\n\n"
        "**Plan: 0 to add, 0 to change, 0 to destroy, 1 to replace.**\n\n"
        "| action | address | reason |\n| --- | --- | --- |\n"
        f"| replace | `{NODE_GROUP}` | replace_because_cannot_update |\n\n"
        "### Routing forecast: low\n\n"
        "No change of this plan is known to move cae's traffic.\n\n"
        "### Run record\n\n" + record_list(locations(result)) + "\n"
    )
    assert len(locations(result)) == 2  # this machine's folder and the state bucket


def test_a_failed_apply_shows_the_engines_error_and_the_high_forecast(summary_of):
    hub, summary = summary_of("cae-testing")
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
            "plan": {
                "resource_changes": [{"address": CERTIFICATE, "actions": ["delete", "create"]}]
            },
            "apply": {"fail": {"summary": "creating ACM Certificate: LimitExceededException"}},
        }
    )

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 1
    [record] = hub.records()
    text = summary.read_text()
    assert text.startswith(
        "## cae-testing: the apply failed\n\n"
        f"Exit status 1 · commit `{record['commit'][:12]}`\n\n"
        "### Error\n\n"
        "```\n`tofu apply -input=false -lock-timeout=0s -json "
    )
    assert (
        "failed with exit status 1; its last lines of stderr:\n"
        "╷\n│ Error: creating ACM Certificate: LimitExceededException\n╵\n"
        "Fix what tofu reports above, then run again.\n```\n\n"
        "### Routing\n\n"
        f"Routing unchanged: cae-testing is served by {hub.hostname}.\n\n"
    ) in text
    assert (
        "### Routing forecast: high\n\n"
        "| risk | address | why |\n| --- | --- | --- |\n"
        f"| high | `{CERTIFICATE}` | the load balancer's https listener uses this certificate |\n\n"
        "### Run record\n\n" + record_list(locations(result)) + "\n"
    ) in text


def test_a_plan_without_changes_says_so(summary_of):
    hub, summary = summary_of("cae-testing")

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 0, result.stderr
    [record] = hub.records()
    assert summary.read_text().startswith(
        "## cae-testing: no changes to apply; routing unchanged\n\n"
        f"Exit status 0 · commit `{record['commit'][:12]}`\n\n"
        "### Routing\n\n"
        f"Routing unchanged: cae-testing is served by {hub.hostname}.\n\n"
        f"### Plan (sha256 `{record['plan_sha256']}`)\n\n"
        "**Plan: no changes.**\n\n"
    )


def test_an_apply_that_does_not_start_is_summarised_too(summary_of):
    hub, summary = summary_of("cae")
    hub.environ["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567"

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert summary.read_text().startswith(
        "## cae: the apply did not start\n\nExit status 1: nothing was applied.\n\n### Error\n\n"
        "```\nerror: HEAD is "
    )
    assert "but this workflow run deploys 0123456789ab (GITHUB_SHA)" in summary.read_text()
    assert hub.records() == []

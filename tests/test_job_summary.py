"""One writer of what a GitHub job reads (`hubops.adapters.github`): `plan`'s summary, the one
production's reviewers read, is redacted like apply's, and a summary file that cannot be written is
warned about while the plan, its step outputs and its exit status stay what they are."""

from __future__ import annotations

import pytest


def outputs(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.fixture
def in_actions(hub_world, tmp_path):
    """(hub, summary file, outputs file): cae-testing's `invoke` runs in GitHub Actions' shoes."""
    hub = hub_world("cae-testing")
    summary, output = tmp_path / "step-summary.md", tmp_path / "step-outputs"
    hub.environ.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))
    return hub, summary, output


def test_a_plan_whose_summary_cannot_be_written_says_so_and_still_plans(in_actions, tmp_path):
    hub, summary, output = in_actions
    summary.mkdir()  # a folder: appending to it fails as an unwritable file does

    result = hub.invoke("plan", "--env", "cae-testing", "--detailed-exitcode")

    assert result.returncode in (0, 2), result.stderr  # the plan's own answer, not the summary's
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith(
        "warning: the job summary could not be written (Is a directory).\n"
    )
    written = outputs(output)
    assert f"Saved plan: {written['plan_file']} (sha256 {written['plan_sha256']})" in result.stdout


def test_a_plans_summary_is_redacted(in_actions):
    hub, summary, output = in_actions
    # A credential of this shell that a plan's summary happens to hold (here: the env's name).
    hub.environ["AWS_SECURITY_TOKEN"] = "cae-testing"

    result = hub.invoke("plan", "--env", "cae-testing")

    assert result.returncode == 0, result.stderr
    text = summary.read_text()
    assert text.startswith("### Plan of [redacted] (sha256 `")
    assert "cae-testing" not in text


def test_outside_github_actions_no_summary_is_written(monkeypatch, tmp_path):
    """Every task's summary goes through this writer (apply, plan, drift, changes, health)."""
    from hubops.adapters import github

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)

    github.add_to_summary("## cae-testing: applied; routing unchanged")

    assert list(tmp_path.iterdir()) == []

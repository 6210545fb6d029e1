"""The offline rehearsal (`nox -s rehearsal`), run as a user runs it: every step ends as the
runbook says, and what the operator must do is printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# It starts the whole world itself, in a process of its own.
pytestmark = pytest.mark.world
REHEARSAL = Path(__file__).resolve().parents[1] / "scripts" / "rehearsal.py"


def rehearse(engine: str, temporary: Path) -> subprocess.CompletedProcess:
    """The rehearsal, with `temporary` as the system's temporary folder: it must leave it empty."""
    done = subprocess.run(
        [sys.executable, str(REHEARSAL), "--engine", engine],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert [p.name for p in temporary.iterdir() if p.name.startswith("hubops-rehearsal")] == []
    return done


def test_the_rehearsal_with_the_fake_walks_through_a_moved_hub_to_its_restored_routing(tmp_path):
    assert_the_story(rehearse("fake", tmp_path))


def test_the_rehearsal_with_the_real_engine_tells_the_same_story(real_engine, tmp_path):
    assert_the_story(rehearse("real", tmp_path))


def test_a_real_engine_the_machine_lacks_is_refused_not_replaced_by_the_fake(tmp_path):
    # PATH without an engine: the real engine cannot be found, whatever this machine has.
    done = subprocess.run(
        [sys.executable, str(REHEARSAL), "--engine", "real"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": str(tmp_path), "HUBOPS_TOFU_BIN": ""},
    )

    assert done.returncode == 1
    assert done.stderr.startswith("\nRehearsal failed: --engine real cannot be honoured: ")
    assert "$ invoke" not in done.stdout


def assert_the_story(done: subprocess.CompletedProcess) -> None:

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    said = done.stdout
    steps = [
        "  $ invoke status --env cae",
        "  $ invoke apply --env cae\n",
        "Routing unchanged: cae is served by ",
        "(the operator typed: cae)",
        "  $ invoke apply --env cae\n",
        "Set this DNS record by hand so that users can log in:",
        "(the operator typed: cae)",
        "  (exit 3)",
        "and the load balancer moved anyway",
        "Open routing incident: the apply of ",
        "  $ invoke dns-check --env cae --wait --interval 1 --timeout 30",
        "Routing incident closed: ",
        "  $ invoke history --env cae",
        "(incident closed)",
        "  $ invoke apply --env cae\n",
        "ok   login [127.0.0.2]: /hub/oauth_login sends users to",
        "Users can log in to cae: every step passed through ",
        "  (exit 0)",
        "  $ invoke health --env cae --quick",
        "FAIL tls [127.0.0.2]: the TLS handshake was refused",
        "certificate has expired",
        "Users may not be able to log in to cae: tls failed through ",
        "  (exit 5)",
        "Rehearsal complete in ",
    ]
    position = 0
    for step in steps:
        found = said.find(step, position)
        assert found >= 0, f"{step!r} missing after position {position}:\n{said}"
        position = found + len(step)


def test_the_shells_service_endpoints_never_reach_the_rehearsals_aws():
    from tests.support.moto_server import aws_variables_to_remove

    shell = {
        "AWS_ENDPOINT_URL_S3": "https://s3.example.net",
        "AWS_ENDPOINT_URL_STS": "https://sts.example.net",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        "AWS_PROFILE": "production",
        "AWS_ENDPOINT_URL": "https://127.0.0.1:1",  # replaced by moto's own
        "HOME": "/root",
    }

    assert sorted(aws_variables_to_remove(shell)) == [
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_STS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_PROFILE",
    ]

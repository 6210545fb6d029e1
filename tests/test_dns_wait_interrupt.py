"""Ctrl-C (or a CI runner's SIGTERM) while `invoke dns-check --wait` polls: the routing was not
verified, so the operator gets a one-line reason and exit 1 (an interrupted run), no traceback, no
restore record, no leftover file, and the routing incident stays open for the next wait.

The wait runs on the run frame as every run does: it holds the environment's run lock meanwhile.

Real processes and real signals: the wait runs as `invoke` in a subprocess against moto's server
and the loopback authoritative DNS server, and is signalled once it has said "Not yet:".
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from tests.support.invoking import invoke_command
from tests.support.running import Running

# The timeout is only a hang guard: every test signals the wait long before it.
WAIT = ("--wait", "--timeout", "300", "--interval", "1")
HANG_GUARD = 60  # seconds


@pytest.fixture
def fallback(incident, tmp_path):
    """The folder a record that no store takes would be left in: the wait must leave none."""
    hub = incident[0]
    folder = tmp_path / "records-fallback"
    hub.environ["HUBOPS_RECORDS_FALLBACK_DIR"] = str(folder)
    return folder


def start_wait(hub) -> Running:
    """`invoke dns-check --env cae --wait` in the background, its output watched line by line."""
    return Running(
        subprocess.Popen(
            invoke_command("dns-check", "--env", "cae", *WAIT),
            cwd=hub.root,
            env=hub.process_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )


def files_under(folder) -> list[str]:
    """Every file below `folder` (dot-files included), relative to it."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def interrupt_the_wait(hub, signum: int) -> tuple[int, str, str]:
    """Start the wait, let it see the old record once, send `signum`; its (status, out, err)."""
    wait = start_wait(hub)
    try:
        wait.wait_for("Not yet:", timeout=HANG_GUARD)
        wait.process.send_signal(signum)
        return wait.finish(timeout=HANG_GUARD)
    finally:
        if wait.process.poll() is None:  # a hang: end it, so that the test fails, not stalls
            wait.process.kill()
            wait.process.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_wait_says_so_in_one_line_and_exits_1(incident, signum):
    hub, zone, failed, new = incident
    name = signal.Signals(signum).name

    status, stdout, stderr = interrupt_the_wait(hub, signum)

    assert status == 1, (status, stdout, stderr)  # README: 1 is an interrupted run
    assert "Traceback" not in stdout + stderr
    assert "Not yet:\n" in stdout  # what it saw before the signal is still on the screen
    assert "Routing restored" not in stdout and "incident closed" not in stdout
    assert stderr == (
        f"error: Interrupted by {name}. The routing was not verified and nothing was recorded: "
        "the routing incident, if any, stays open (`invoke dns-check --env cae --wait` again "
        "closes it).\n"
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_wait_records_nothing_and_leaves_the_incident_open(incident, fallback, signum):
    hub, zone, failed, new = incident
    records_before = files_under(hub.records_dir)
    hubops_before = files_under(hub.root / ".hubops")
    assert f"cae/{failed.name}" in records_before

    interrupt_the_wait(hub, signum)

    # No restore record, whole or in progress (.partial-*), in the local folder or the fallback,
    # and nothing else left in the checkout's .hubops/ (no lock, no plan).
    assert files_under(hub.records_dir) == records_before
    assert files_under(fallback) == []
    assert files_under(hub.root / ".hubops") == hubops_before
    # Nor in the bucket: history reads both stores, and the failed apply's incident is still open.
    history = hub.invoke("history", "--env", "cae")
    assert history.returncode == 0, history.stderr
    assert history.stdout.startswith("Open routing incident: "), history.stdout
    assert failed.name in history.stdout.splitlines()[0]
    [run] = json.loads(hub.invoke("history", "--env", "cae", "--json").stdout)
    assert run["location"].endswith(failed.name)
    assert run["incident_state"] == "open" and run["source"] == "local+s3"
    status = json.loads(hub.invoke("status", "--env", "cae", "--json").stdout)
    assert status["open_incident"]["name"] == failed.name

    # The operator sets the record and waits again: nothing the stopped wait left is in the way.
    zone.set_cname("hub.example.org", new, ttl=300)
    again = hub.invoke("dns-check", "--env", "cae", "--wait", "--timeout", "30", "--interval", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    [closed] = [line for line in again.stdout.splitlines() if "incident closed" in line]
    assert closed.startswith("Routing incident closed: the apply of ")
    assert closed.endswith(f" exited 3 (record {failed.name}).")


def test_the_wait_holds_the_environments_run_lock_while_it_looks(incident):
    hub = incident[0]
    wait = start_wait(hub)
    try:
        wait.wait_for("Not yet:", timeout=HANG_GUARD)
        plan = hub.invoke("plan", "--env", "cae")
        wait.process.send_signal(signal.SIGTERM)
        status, _, _ = wait.finish(timeout=HANG_GUARD)
    finally:
        if wait.process.poll() is None:
            wait.process.kill()
            wait.process.wait()

    assert (plan.returncode, status) == (1, 1)
    assert re.fullmatch(
        rf"error: Another hubops run for cae is in progress in this checkout \(pid "
        rf"{wait.process.pid}, `invoke dns-check --wait --env cae`, since \S+; lock "
        r"\.hubops/locks/cae\.lock\): wait for it to finish, or stop it \(Ctrl-C in its "
        rf"terminal, or `kill -INT {wait.process.pid}`: it stops cleanly\), then run again\. "
        r"Nothing was changed\.\n",
        plan.stderr,
    )


def test_a_wait_is_refused_while_another_run_holds_the_lock_and_records_nothing(incident):
    from hubops.adapters.run_lock import environment_run_lock

    hub, zone, failed, new = incident
    zone.set_cname("hub.example.org", new)  # restored: only the lock stands in the way
    records_before = files_under(hub.records_dir)

    with environment_run_lock(hub.root, "cae", "apply"):
        result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 1
    assert result.stdout == ""  # refused before it looked
    assert result.stderr.startswith(
        f"error: Another hubops run for cae is in progress in this checkout (pid {os.getpid()}, "
        "`invoke apply --env cae`, since "
    )
    assert files_under(hub.records_dir) == records_before

#!/usr/bin/env python3
"""A rehearsal of the guide's hardest moment, offline, in under a minute: `nox -s rehearsal`.

A production (`cae`) apply succeeds but gives the hub a new load balancer, and DNS still points at
the old one. Operators meet it about once in twenty applies; here anyone can walk through it on a
machine with only Python. Everything is local and thrown away afterwards: AWS is moto's server on
loopback (over TLS), DNS is a zone at an authoritative server behind a caching resolver (on
loopback), the repository is a copy of this project's OpenTofu tree committed in a temporary git
repository, and OpenTofu is the project's fake (`tests/fake_tofu/`, which speaks OpenTofu's formats
and can replace the hub's load balancer as Kubernetes would). The `invoke` commands are the real
ones, run as an operator runs them, and their output is shown as it is.

    python scripts/rehearsal.py     (needs the test dependencies: pip install -e '.[test]')

Exits 0 when every step ended as the runbook says, 1 otherwise (naming the step).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test world's parts live in tests/support/

from tests.support import aws_world  # noqa: E402
from tests.support.dns_server import LoopbackDnsServer, authoritative_world  # noqa: E402
from tests.support.fake_tofu import make_fake_tofu  # noqa: E402
from tests.support.git_repo import (  # noqa: E402
    copy_project_tree,
    init_origin,
    init_repo,
    use_moto_account,
)
from tests.support.hub_world import start_hub  # noqa: E402
from tests.support.invoking import invoke_command  # noqa: E402
from tests.support.moto_server import _REMOVED, client_environ, running_moto  # noqa: E402

ENV = "cae"
NEW_HUB_ADDRESS = "192.0.2.20"  # TEST-NET-1: only ever data in DNS answers


class StepFailed(Exception):
    pass


def narrate(text: str) -> None:
    print("\n" + textwrap.fill(text, width=100), flush=True)


def run(*args: str, expect: int) -> None:
    """`invoke ARGS` as an operator types it; its output shown indented; its exit status checked."""
    print(f"\n  $ invoke {' '.join(args)}", flush=True)
    done = subprocess.run(
        invoke_command(*args),
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows it
        text=True,
        timeout=120,
    )
    for line in done.stdout.splitlines():
        print(f"    {line}")
    print(f"  (exit {done.returncode})", flush=True)
    if done.returncode != expect:
        raise StepFailed(f"`invoke {' '.join(args)}` exited {done.returncode}, not {expect}")


def rehearse(work: Path) -> None:
    (work / "moto").mkdir()
    with running_moto(work / "moto") as aws:
        for name in _REMOVED:
            os.environ.pop(name, None)
        os.environ.update(client_environ(aws, work))
        internet = LoopbackDnsServer()  # the load balancers' names live outside the hub's zone
        dns = authoritative_world(internet)
        os.environ.update(internet.env)  # short DNS timeouts, as the tests use
        os.environ["HUBOPS_DNS_NAMESERVERS"] = dns.cache.address
        os.environ["HUBOPS_DNS_AUTHORITATIVE_PORT"] = str(dns.server.port)
        fake = make_fake_tofu(work / "fake-tofu")
        os.environ.update(fake.env)
        try:
            _runbook(work, internet, dns, fake)
        finally:
            dns.stop()
            internet.stop()


def _runbook(work: Path, internet, dns, fake) -> None:
    narrate(
        f"Local AWS (moto) at {os.environ['AWS_ENDPOINT_URL']}; DNS: hub.example.org at an "
        f"authoritative server, asked through a caching resolver at {dns.cache.address}. "
        f"A copy of this project's OpenTofu tree is committed in {work / 'project'}."
    )
    repo = init_repo(work / "project")
    copy_project_tree(ROOT, repo.path)
    use_moto_account(repo.path)  # the environments' accounts become moto's
    repo.commit("The project's OpenTofu tree")
    init_origin(repo, work / "origin.git")
    repo.push()
    os.chdir(repo.path)

    narrate(
        "1. Production is running: its state backend is bootstrapped, the hub's load balancer "
        "exists, and hub.example.org points at it (cae-dev has applied this commit already)."
    )
    hub = start_hub(ENV, repo.path, internet, fake, work / "records")
    os.environ.update(hub.environ)
    dns.set_cname(hub.domain, hub.hostname, ttl=300)
    run("status", "--env", ENV, expect=0)

    narrate(
        "2. A supervised apply whose plan leaves the load balancer alone: the routing before and "
        "after agree, and the apply passes."
    )
    fake.scenario(
        {
            "plan": {"resource_changes": [
                {"address": "module.hub.helm_release.jupyterhub", "actions": ["update"]}
            ]},
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
        }
    )  # fmt: skip
    run("apply", "--env", ENV, "--yes", expect=0)

    narrate(
        "3. The apply an operator meets about once in twenty: a node group is replaced and "
        "Kubernetes hands the hub a new load balancer. The apply itself succeeds; the guard "
        "fails it with exit 3 and prints the DNS record to set by hand."
    )
    hub.replace_node_group("replace_hub_load_balancer")
    run("apply", "--env", ENV, "--yes", expect=3)
    [new] = hub.hub_hostnames()
    internet.set_a(new, NEW_HUB_ADDRESS)  # what AWS's DNS answers for the new name
    fake.scenario({"outputs": {"hub_load_balancer_hostname": new}})

    narrate("4. Until the record is set, status and history show the open routing incident.")
    run("status", "--env", ENV, expect=0)

    narrate(
        f"5. The operator sets the record at the DNS provider: hub.example.org CNAME {new}. "
        "Resolvers may still serve the old answer for its TTL, so dns-check --wait asks the "
        "zone's authoritative servers directly, and closes the incident once they all agree."
    )
    dns.set_cname(hub.domain, new, ttl=300)
    run("dns-check", "--env", ENV, "--wait", "--interval", "1", "--timeout", "30", expect=0)

    narrate("6. The story, as the records tell it: the incident is closed, newest first.")
    run("history", "--env", ENV, expect=0)
    if aws_world.hub_load_balancer_hostnames(
        cluster_name=hub.cluster_name, hub_namespace=hub.hub_namespace, region=hub.region
    ) != [new]:
        raise StepFailed("the hub's load balancer is not the new one")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hubops-rehearsal-") as folder:
        try:
            rehearse(Path(folder))
        except StepFailed as failed:
            print(f"\nRehearsal failed: {failed}.", file=sys.stderr)
            return 1
        finally:
            os.chdir(ROOT)
    print(
        f"\nRehearsal complete in {time.monotonic() - started:.0f} s: in production, step 5 is "
        "the one to remember (set the record printed by the failed apply, then "
        "`invoke dns-check --env cae --wait`)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

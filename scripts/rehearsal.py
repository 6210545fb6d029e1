#!/usr/bin/env python3
"""A rehearsal of the guide's hardest moment, offline, in about a minute: `nox -s rehearsal`.

A production (`cae`) apply succeeds but gives the hub a new load balancer, and DNS still points at
the old one. Operators meet it about once in twenty applies; here anyone can walk through it on a
machine with only Python (and Node, for the hub's proxy). Once the routing is restored, the health
check proves users can log in, on a real JupyterHub behind a front door that plays the load
balancer (`tests/support/live_hub.py`), and names the step that breaks when its certificate
expires. Everything is local and thrown away afterwards: AWS is moto's server on
loopback (over TLS), DNS is a zone at an authoritative server behind a caching resolver (on
loopback), and the repository is a temporary git repository. The `invoke` commands are the real
ones, run as an operator runs them, and their output is shown as it is.

The engine is the real one where it can be (OpenTofu, or Terraform, with a filesystem mirror of
the aws provider: then the hub is a small stand-in, `tests/engine_fixture/`, whose classic load
balancer the engine itself replaces), else the project's fake (`tests/fake_tofu/`, which speaks
OpenTofu's formats and replaces the hub's load balancer as Kubernetes would, on a copy of this
project's own tree).

    python scripts/rehearsal.py [--engine auto|real|fake]   (needs pip install -e '.[test]')

Exits 0 when every step ended as the runbook says, 1 otherwise (naming the step).
"""

from __future__ import annotations

import argparse
import os
import pty
import re
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
from tests.support.engine import (  # noqa: E402
    Engine,
    find_engine_binary,
    find_mirror,
    missing_reason,
    write_cli_config,
)
from tests.support.engine_hub import (  # noqa: E402
    CLUSTER,
    DOMAIN,
    NAMESPACE,
    PREDECESSOR,
    engine_environ,
    make_fixture_repo,
    run_engine,
    vars_text,
)
from tests.support.fake_tofu import make_fake_tofu  # noqa: E402
from tests.support.git_repo import init_origin, init_repo, use_moto_account  # noqa: E402
from tests.support.hub_world import HUB_ADDRESS as OLD_HUB_ADDRESS  # noqa: E402
from tests.support.hub_world import record_successful_apply, start_hub  # noqa: E402
from tests.support.invoking import invoke_command  # noqa: E402
from tests.support.live_hub import running_live_hub  # noqa: E402
from tests.support.moto_server import (  # noqa: E402
    aws_variables_to_remove,
    client_environ,
    running_moto,
)
from tests.support.tree_copy import copy_tree_files  # noqa: E402

ENV = "cae"
NEW_HUB_ADDRESS = "192.0.2.20"  # TEST-NET-1: only ever data in DNS answers


class StepFailed(Exception):
    pass


def narrate(text: str) -> None:
    print("\n" + textwrap.fill(text, width=100), flush=True)


def run(*args: str, expect: int, typed: str | None = None) -> str:
    """`invoke ARGS` as an operator types it; its output shown indented (and returned); its exit
    status checked. `typed`: what the operator types at its prompt, on a terminal of its own."""
    print(f"\n  $ invoke {' '.join(args)}", flush=True)
    terminal = pty.openpty() if typed is not None else None
    process = subprocess.Popen(
        invoke_command(*args),
        env=dict(os.environ),
        stdin=terminal[1] if terminal else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows it
        text=True,
    )
    if terminal:
        os.close(terminal[1])
        os.write(terminal[0], typed.encode())
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if terminal:
            os.close(terminal[0])
    for line in output.splitlines():
        print(f"    {line}")
    if typed is not None:
        print(f"    (the operator typed: {typed.strip()})")
    print(f"  (exit {process.returncode})", flush=True)
    if process.returncode != expect:
        raise StepFailed(f"`invoke {' '.join(args)}` exited {process.returncode}, not {expect}")
    return output


def rehearse(work: Path, engine) -> None:
    (work / "moto").mkdir()
    with running_moto(work / "moto") as aws:
        for name in aws_variables_to_remove(list(os.environ)):
            os.environ.pop(name, None)
        os.environ.update(client_environ(aws, work))
        internet = LoopbackDnsServer()  # the load balancers' names live outside the hub's zone
        dns = authoritative_world(internet)
        os.environ.update(internet.env)  # short DNS timeouts, as the tests use
        os.environ["HUBOPS_DNS_NAMESERVERS"] = dns.cache.address
        os.environ["HUBOPS_DNS_AUTHORITATIVE_PORT"] = str(dns.server.port)
        try:
            production = (
                FakeEngineHub(work, internet) if engine is None
                else RealEngineHub(work, internet, engine)
            )  # fmt: skip
            narrate(
                f"Local AWS (moto) at {os.environ['AWS_ENDPOINT_URL']}; DNS: {production.domain} "
                f"at an authoritative server, asked through a caching resolver at "
                f"{dns.cache.address}. The repository: {production.root}. The engine: "
                f"{production.name}."
            )
            os.chdir(production.root)
            _runbook(production, dns, internet)
            (work / "live-hub").mkdir()
            with running_live_hub(work / "live-hub", production.domain) as hub:
                _health(production, dns, internet, hub)
        finally:
            dns.stop()
            internet.stop()


class FakeEngineHub:
    """Production as a copy of this project's tree, applied by the fake tofu."""

    name = "the project's fake tofu, on a copy of this project's OpenTofu tree"

    def __init__(self, work: Path, internet) -> None:
        self.fake = make_fake_tofu(work / "fake-tofu")
        os.environ.update(self.fake.env)
        repo = init_repo(work / "project")
        copy_tree_files(ROOT, repo.path)
        use_moto_account(repo.path)  # the environments' accounts become moto's
        repo.commit("The project's OpenTofu tree")
        init_origin(repo, work / "origin.git")
        repo.push()
        self.hub = start_hub(ENV, repo.path, internet, self.fake, work / "records")
        self.root, self.domain, self.hostname = repo.path, self.hub.domain, self.hub.hostname
        os.environ.update(self.hub.environ)

    def change_leaving_the_load_balancer(self) -> None:
        self.fake.scenario(
            {
                "plan": {"resource_changes": [
                    {"address": "module.hub.helm_release.jupyterhub", "actions": ["update"]}
                ]},
                "outputs": {"hub_load_balancer_hostname": self.hostname},
            }
        )  # fmt: skip

    def change_moving_the_load_balancer(self) -> None:
        self.hub.replace_node_group("replace_hub_load_balancer")

    def load_balancers(self) -> list[str]:
        return self.hub.hub_hostnames()

    def moved_to(self, hostname: str) -> None:
        self.hostname = hostname
        self.fake.scenario({"outputs": {"hub_load_balancer_hostname": hostname}})

    def with_health_check(self, value: dict) -> None:
        """The tree's health_check output in the state, as an apply leaves it."""
        self.fake.scenario(
            {"outputs": {"hub_load_balancer_hostname": self.hostname, "health_check": value}}
        )


class RealEngineHub:
    """Production as tests/engine_fixture/ (a classic load balancer tagged as Kubernetes tags
    the hub's), applied by the real engine with the aws provider from the local mirror."""

    def __init__(self, work: Path, internet, engine) -> None:
        self.engine = engine
        self.name = f"the real engine ({engine.binary}) with the aws provider from {engine.mirror}"
        os.environ.update(engine_environ(engine))
        self.repo = make_fixture_repo(work / "checkout", engine)
        self.root, self.domain = self.repo.path, DOMAIN
        records = work / "records"
        record_successful_apply(self.root, records, PREDECESSOR)
        os.environ.update({"HUBOPS_ROOT": str(self.root), "HUBOPS_RECORDS_DIR": str(records)})
        self.work = work
        run("backend", "--env", ENV, expect=0)
        data_dir = work / "engine-data"
        backend = f"-backend-config=environments/{ENV}/backend.hcl"
        run_engine(engine, self.root, data_dir, "init", "-input=false", backend)
        run_engine(engine, self.root, data_dir, "apply", "-input=false", "-auto-approve",
                   f"-var-file=environments/{ENV}/terraform.tfvars")  # fmt: skip
        [self.hostname] = self.load_balancers()
        internet.set_a(self.hostname, OLD_HUB_ADDRESS)

    def _commit(self, message: str, **knobs) -> None:
        (self.root / "environments" / ENV / "terraform.tfvars").write_text(vars_text(**knobs))
        self.repo.commit(message)
        self.repo.push()  # production is applied only from main's history

    # The fixture's knobs: a new pause_token replaces a terraform_data beside the load balancer,
    # a new load_balancer_generation renames (so replaces) the load balancer itself.
    def change_leaving_the_load_balancer(self) -> None:
        self._commit("A change beside the load balancer", **{"pause_token": "1"})

    def change_moving_the_load_balancer(self) -> None:
        self._commit("The load balancer, second generation",
                     **{"pause_token": "1", "load_balancer_generation": "2"})  # fmt: skip

    def load_balancers(self) -> list[str]:
        return aws_world.hub_load_balancer_hostnames(
            cluster_name=CLUSTER, hub_namespace=NAMESPACE, region=os.environ["AWS_DEFAULT_REGION"]
        )

    def moved_to(self, hostname: str) -> None:
        pass  # the engine's own state names it

    def with_health_check(self, value: dict) -> None:
        """The fixture passes its `health_check` variable through to the output, as the tree's
        hub module makes it."""
        self._commit(
            "The health check's facts",
            **{"pause_token": "1", "load_balancer_generation": "2", "health_check": value},
        )


def _runbook(production, dns, internet) -> None:
    narrate(
        f"1. Production is running: its state backend is bootstrapped, the hub's load balancer "
        f"exists, and {production.domain} points at it (cae-dev has applied this commit already)."
    )
    dns.set_cname(production.domain, production.hostname, ttl=300)
    run("status", "--env", ENV, expect=0)

    narrate(
        "2. A supervised apply whose plan leaves the load balancer alone: the routing before and "
        "after agree, and the apply passes."
    )
    production.change_leaving_the_load_balancer()
    # An operator's apply of production (`--yes` is CI's): it asks for production's name.
    run("apply", "--env", ENV, expect=0, typed=f"{ENV}\n")

    narrate(
        "3. The apply an operator meets about once in twenty: the hub gets a new load balancer. "
        "The apply itself succeeds; the guard fails it with exit 3 and prints the DNS record to "
        "set by hand."
    )
    production.change_moving_the_load_balancer()
    shown = run("apply", "--env", ENV, expect=3, typed=f"{ENV}\n")
    risk = re.search(r"^Routing forecast: (\w+)", shown, re.M)
    narrate(
        f"The forecast said {risk[1] if risk else 'nothing'}, and the load balancer moved anyway: "
        "a forecast reads the plan, and Kubernetes may replace a load balancer no plan names. "
        "That is why every supervised apply checks the routing after it, whatever was forecast."
    )
    [new] = production.load_balancers()
    internet.set_a(new, NEW_HUB_ADDRESS)  # what AWS's DNS answers for the new name
    production.moved_to(new)

    narrate("4. Until the record is set, status (and history) show the open routing incident.")
    run("status", "--env", ENV, expect=0)

    narrate(
        f"5. The operator sets the record at the DNS provider: {production.domain} CNAME {new}. "
        "Resolvers may still serve the old answer for its TTL, so dns-check --wait asks the "
        "zone's authoritative servers directly, and closes the incident once they all agree."
    )
    dns.set_cname(production.domain, new, ttl=300)
    run("dns-check", "--env", ENV, "--wait", "--interval", "1", "--timeout", "30", expect=0)

    narrate("6. The story, as the records tell it: the incident is closed, newest first.")
    run("history", "--env", ENV, expect=0)


def _health(production, dns, internet, hub) -> None:
    import boto3

    dns.expire()  # the old answer's TTL has run out: every resolver now sees the restored record
    narrate(
        "7. Five minutes later the routing holds everywhere; can users log in? The health check "
        f"walks a user's path through {production.domain}, on every address it resolves to: TLS, "
        "/hub/health, http sent on to https, HSTS, the login's redirect to the identity "
        "provider, Secure cookies. A supervised apply runs it after its routing verdict. Here "
        "the hub is a real JupyterHub (with Dask Gateway) behind a front door on "
        f"{' and '.join(hub.addresses)}."
    )
    [current] = production.load_balancers()
    internet.set_a(current, *hub.addresses)
    secret = boto3.client("secretsmanager").create_secret(
        Name="hubops/cae/health-token", SecretString=hub.service_token
    )
    os.environ.update(
        SSL_CERT_FILE=str(hub.ca_bundle),  # the front door's certificate is the test CA's
        HUBOPS_HEALTH_HTTPS_PORT=str(hub.https_port),
        HUBOPS_HEALTH_HTTP_PORT=str(hub.http_port),
    )
    production.with_health_check(
        {
            "hostname": production.domain,
            "user": hub.health_user,
            "journey": False,
            "token_secret_id": secret["ARN"],
            "login": {
                "start_path": "/hub/oauth_login",
                "authorize_url": hub.authorize_url,
                "client_id": hub.client_id,
                "redirect_uri": hub.callback_url,
            },
        }
    )
    run("apply", "--env", ENV, expect=0, typed=f"{ENV}\n")

    narrate(
        "8. The day the certificate was not renewed: the routing still holds, and the health check "
        "names the step, the address, what was expected and what came back, with exit 5."
    )
    with hub.expired_certificate():
        run("health", "--env", ENV, "--quick", expect=5)


def choose_engine(wanted: str, work: Path):
    """The real engine (with the mirror, its CLI configuration in `work`), or None for the fake;
    `real` insists on it, and is refused, naming why, where it is not installed."""
    reason = missing_reason()
    if wanted == "fake" or (wanted == "auto" and reason):
        return None
    if reason:
        raise StepFailed(f"--engine real cannot be honoured: {reason}")
    mirror = find_mirror()
    return Engine(find_engine_binary(), mirror, write_cli_config(work / "cli.tfrc", mirror))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine", choices=("auto", "real", "fake"), default="auto",
        help="auto (default): the real engine where it and the aws provider's mirror are "
        "installed, else the project's fake",
    )  # fmt: skip
    wanted = parser.parse_args(argv).engine
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hubops-rehearsal-") as folder:
        try:
            rehearse(Path(folder), choose_engine(wanted, Path(folder)))
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
    sys.exit(main(sys.argv[1:]))

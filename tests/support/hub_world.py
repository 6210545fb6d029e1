"""Fixture plugin: a running hub's world for one environment, and `invoke` run as a user would.

The world is real where a real part exists: the hub's load balancer lives in moto's server, DNS
answers come from the loopback dnslib server, the repository is a real git checkout, and only
`tofu` is the project's fake.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubops.facts.environments import predecessor
from tests.support import aws_world
from tests.support.invoking import invoke_command, run_invoke

HUB_ADDRESS = "192.0.2.10"
NODE_GROUP_REPLACEMENT = [
    {"address": 'module.eks.aws_eks_node_group.this["main"]', "actions": ["delete", "create"]}
]  # TEST-NET-1: only ever data in DNS answers, never contacted


@dataclass
class Hub:
    env_name: str
    root: Path
    cluster_name: str
    hub_namespace: str
    region: str
    domain: str | None
    hostname: str
    records_dir: Path
    fake_tofu: object
    dns: object
    environ: dict = field(default_factory=dict)

    def invoke(self, *args: str, input: str | None = None, timeout: float = 120):
        """Run `invoke ARGS` the way an operator would, from the repository's checkout."""
        return run_invoke(
            *args, cwd=self.root, env=self.process_env(), input=input, timeout=timeout
        )

    def invoke_on_terminal(self, *args: str, typed: str) -> subprocess.CompletedProcess:
        """Run `invoke ARGS` with a terminal as its input, on which `typed` is typed."""
        primary, secondary = pty.openpty()
        process = subprocess.Popen(
            invoke_command(*args),
            cwd=self.root,
            env=self.process_env(),
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(secondary)
        os.write(primary, typed.encode())
        stdout, stderr = process.communicate(timeout=120)
        os.close(primary)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def process_env(self) -> dict:
        """The environment an `invoke` subprocess of this hub runs with."""
        return {**os.environ, **self.environ}

    def hub_hostnames(self) -> list[str]:
        return aws_world.hub_load_balancer_hostnames(
            cluster_name=self.cluster_name, hub_namespace=self.hub_namespace, region=self.region
        )

    def effect(self) -> dict:
        """Parameters of a fake-tofu effect on this hub's load balancer."""
        return {
            "cluster_name": self.cluster_name,
            "hub_namespace": self.hub_namespace,
            "region": self.region,
        }

    def replace_node_group(self, *effects: str, apply: dict | None = None) -> None:
        """A scenario: the plan replaces a node group; the apply has `effects` on this hub."""
        self.fake_tofu.scenario(
            {
                "plan": {"resource_changes": NODE_GROUP_REPLACEMENT},
                "apply": {"effects": [{name: self.effect()} for name in effects], **(apply or {})},
                "outputs": {"hub_load_balancer_hostname": self.hostname},
            }
        )

    def records(self) -> list[dict]:
        folder = self.records_dir / self.env_name
        # Names starting with "." are a write in progress (.partial-*) or a probe, never a record.
        paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
        return [json.loads(p.read_text()) for p in paths]


def record_successful_apply(root: Path, records_dir: Path, env_name: str) -> None:
    """A run record of `env_name` having applied HEAD successfully, as `invoke apply` writes it:
    in this machine's folder and in the environment's state bucket (made here if missing), the
    store that promotion parity and lineage count."""
    from hubops.adapters.clock import now
    from hubops.adapters.environment_files import load_environment
    from hubops.adapters.git import git
    from hubops.adapters.records import LocalRecordStore, S3RecordStore, record_name
    from hubops.bootstrap.backend import ensure_backend
    from hubops.facts.outcome import Outcome
    from hubops.facts.run_record import ApplyRecord
    from hubops.flows.parity import shared_tree

    commit = git(root, "rev-parse", "HEAD").strip()
    record = ApplyRecord(
        environment=env_name,
        commit=commit,
        started_at=now(),
        operator="tester@hub-world",
        applied=True,
        outcome=Outcome.OK,
        shared_tree=shared_tree(root, commit),
    )
    env = load_environment(root, env_name)
    ensure_backend(env)
    name = record_name(record)
    LocalRecordStore(records_dir).write(record, name)
    S3RecordStore(env).write(record, name)


def start_hub(env_name: str, root: Path, dns, fake_tofu, records_dir: Path) -> Hub:
    """`env_name`'s hub running in the AWS the process points at: its backend bootstrapped, its
    load balancer made, DNS pointing at it, the fake tofu's outputs naming it, and (for cae and
    cae-dev) the commit already applied by the environment before it."""
    from hubops.adapters.environment_files import load_environment
    from hubops.bootstrap.backend import ensure_backend

    env = load_environment(root, env_name)
    ensure_backend(env)
    hostname = aws_world.create_hub_load_balancer(
        cluster_name=env.cluster_name, hub_namespace=env.hub_namespace, region=env.region
    )
    dns.set_a(hostname, HUB_ADDRESS)
    if env.domain:
        dns.set_cname(env.domain, hostname)
    fake_tofu.scenario({"outputs": {"hub_load_balancer_hostname": hostname}})
    promoted_from = predecessor(env_name)
    if promoted_from:  # the world where the commit has gone through its predecessor already
        record_successful_apply(root, records_dir, promoted_from)
    return Hub(
        env_name=env_name,
        root=root,
        cluster_name=env.cluster_name,
        hub_namespace=env.hub_namespace,
        region=env.region,
        domain=env.domain,
        hostname=hostname,
        records_dir=records_dir,
        fake_tofu=fake_tofu,
        dns=dns,
        environ={"HUBOPS_ROOT": str(root), "HUBOPS_RECORDS_DIR": str(records_dir)},
    )


@pytest.fixture
def hub_world(project_repo, aws_env, dns_server, fake_tofu, tmp_path):
    """make(env_name) -> Hub: that environment's hub running, its backend bootstrapped, DNS set."""
    return lambda env_name: start_hub(
        env_name, project_repo.path, dns_server, fake_tofu, tmp_path / "records"
    )


@pytest.fixture
def incident(hub_world, authoritative_dns):
    """cae's apply replaced the load balancer and exited 3; the caching resolver holds the old
    record. Returns (hub, zone, the failed apply's record file, the new load balancer)."""
    hub = hub_world("cae")
    authoritative_dns.set_cname("hub.example.org", hub.hostname, ttl=300)
    hub.replace_node_group("replace_hub_load_balancer")
    failed = hub.invoke("apply", "--env", "cae", "--yes")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    [record_file] = (hub.records_dir / "cae").glob("*.json")
    [new] = hub.hub_hostnames()
    hub.dns.set_a(new, "192.0.2.20")  # AWS's DNS answers for the new load balancer's name
    hub.fake_tofu.scenario({"outputs": {"hub_load_balancer_hostname": new}})
    return hub, authoritative_dns, record_file, new

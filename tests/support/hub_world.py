"""Fixture plugin: a running hub's world for one environment, and `invoke` run as a user would.

The world is real where a real part exists: the hub's load balancer lives in moto's server, DNS
answers come from the loopback dnslib server, the repository is a real git checkout, and only
`tofu` is the project's fake.
"""

from __future__ import annotations

import copy
import json
import os
import pty
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubops.adapters.environment_files import load_environment
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
    return hub_of(env_name, root, dns, fake_tofu, records_dir, hostname)


def hub_of(env_name: str, root: Path, dns, fake_tofu, records_dir: Path, hostname: str) -> Hub:
    """The Hub of `env_name` in these folders (its world made by `start_hub`, or restored)."""
    from hubops.adapters.environment_files import load_environment

    env = load_environment(root, env_name)
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


@dataclass
class StartedHub:
    """What `start_hub` made of one environment in an untouched moto, kept to stand it up again:
    moto's objects (its backend, its load balancer, the predecessor's record in the bucket) and
    the files it wrote (the predecessor's record on this machine, hubops's cache)."""

    folder: Path  # records/, hubops/: copies of the records and the checkout's .hubops/
    moto: object  # MotoSnapshot
    hostname: str
    root: str  # the checkout it was started in


def _moto_untouched() -> bool:
    """Whether moto holds nothing since its last reset (no service has been asked anything)."""
    from moto.core.base_backend import BackendDict

    return not BackendDict._instances


def _clean_commit(root: Path) -> str | None:
    """The commit a checkout is at, when nothing beside it has changed (else None)."""
    from hubops.adapters.git import git

    if git(root, "status", "--porcelain", "--untracked-files=all", "--ignored").strip():
        return None
    return git(root, "rev-parse", "HEAD").strip()


# Its tests run a hub's tasks end to end, as an operator does: `invoke` against the whole world
# (moto, DNS, the checkout) with the fake engine (tests/support/tiers.py).
FIXTURE_MARKS = {"hub_world": "e2e"}


@pytest.fixture(scope="session")
def _started_hubs(tmp_path_factory):
    """Per worker: {(environment, commit): StartedHub}, filled as tests start hubs."""
    started: dict = {}
    yield started
    for hub in started.values():
        hub.moto.discard()


@pytest.fixture
def hub_world(project_repo, aws_env, dns_server, fake_tofu, tmp_path, _started_hubs):
    """make(env_name) -> Hub: that environment's hub running, its backend bootstrapped, DNS set.

    A test's first hub in an untouched moto, from a clean checkout of a commit this worker has
    started that environment from before, is stood up again from what that start made (moto's
    objects, the record files) instead of being bootstrapped again; DNS and the fake's outputs
    are set as `start_hub` sets them."""
    from tests.support.moto_server import MotoSnapshot, restore_moto

    root, records = project_repo.path, tmp_path / "records"

    def make(env_name: str) -> Hub:
        commit = _clean_commit(root) if _moto_untouched() else None
        if commit is None:
            return start_hub(env_name, root, dns_server, fake_tofu, records)
        key = (env_name, commit)
        kept: StartedHub | None = _started_hubs.get(key)
        if kept is None:
            hub = start_hub(env_name, root, dns_server, fake_tofu, records)
            folder = Path(tempfile.mkdtemp(prefix=f"started-{env_name}-", dir=tmp_path.parent))
            for name, source in {"records": records, "hubops": root / ".hubops"}.items():
                if source.exists():  # .hubops/: what hubops caches (the parsed tree)
                    shutil.copytree(source, folder / name, symlinks=True)
            _started_hubs[key] = StartedHub(folder, MotoSnapshot(), hub.hostname, str(root))
            return hub
        restore_moto(kept.moto)
        for name, target in {"records": records, "hubops": root / ".hubops"}.items():
            if (kept.folder / name).exists():
                copy_rewritten(kept.folder / name, target, {kept.root: str(root)})
        env = load_environment(root, env_name)
        dns_server.set_a(kept.hostname, HUB_ADDRESS)
        if env.domain:
            dns_server.set_cname(env.domain, kept.hostname)
        fake_tofu.scenario({"outputs": {"hub_load_balancer_hostname": kept.hostname}})
        return hub_of(env_name, root, dns_server, fake_tofu, records, kept.hostname)

    return make


@dataclass
class IncidentWorld:
    """What `incident`'s failing apply left, kept to stand the same world up again for the next
    test: the files it wrote (the checkout's .hubops/, the records, the fake's scenario, log and
    state), moto's objects (the state bucket's records, the new load balancer) and the DNS zones
    with what the caching resolver holds. The absolute paths in those files were the first test's
    folders; each copy names its own."""

    folder: Path  # root/, records/, fake-tofu/: copies of the three folders
    paths: dict[str, str]  # "root", "records", "fake-tofu" -> the first test's folder
    moto: object  # MotoSnapshot
    dns: dict  # name -> ZoneResolver or CachingResolver state
    hostname: str
    new: str
    record_name: str


def copy_rewritten(source: Path, target: Path, renames: dict[str, str]) -> None:
    """Copy the folder `source` to `target`, each text file's mention of an old path made new."""
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    for path in target.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            changed = text
            for old, new in renames.items():
                changed = changed.replace(old, new)
            if changed != text:
                path.write_text(changed, encoding="utf-8")


def _dns_state(server) -> dict:
    zone = server.zone
    with zone._lock:
        if hasattr(zone, "cache"):
            return {"cache": dict(zone.cache), "questions": list(zone.questions)}
        return copy.deepcopy({name: getattr(zone, name) for name in _ZONE_STATE})


def _set_dns_state(server, state: dict) -> None:
    zone = server.zone
    with zone._lock:
        for name, value in copy.deepcopy(state).items():
            setattr(zone, name, value)


_ZONE_STATE = ("cnames", "records", "ttls", "failures", "failures_left", "questions")


@pytest.fixture(scope="session")
def _incident_template(tmp_path_factory):
    """Per worker: the world `incident`'s first test built, once built."""
    kept = {"base": tmp_path_factory.mktemp("incident-template"), "world": None}
    yield kept
    if kept["world"] is not None:
        kept["world"].moto.discard()


@pytest.fixture
def incident(
    hub_world, authoritative_dns, _incident_template, project_repo, dns_server, fake_tofu, tmp_path
):
    """cae's apply replaced the load balancer and exited 3; the caching resolver holds the old
    record. Returns (hub, zone, the failed apply's record file, the new load balancer).

    The first test of a worker has `invoke apply` fail for real; later ones get that world back
    (`IncidentWorld`), the apply's own files, AWS objects and DNS answers."""
    from tests.support.moto_server import MotoSnapshot, restore_moto

    world: IncidentWorld | None = _incident_template["world"]
    servers = {
        "internet": authoritative_dns.internet,
        "authoritative": authoritative_dns.server,
        "cache": authoritative_dns.cache,
    }
    if world is None:
        hub = hub_world("cae")
        authoritative_dns.set_cname("hub.example.org", hub.hostname, ttl=300)
        hub.replace_node_group("replace_hub_load_balancer")
        failed = hub.invoke("apply", "--env", "cae", "--yes")
        assert failed.returncode == 3, failed.stdout + failed.stderr
        [record_file] = (hub.records_dir / "cae").glob("*.json")
        [new] = hub.hub_hostnames()
        hub.dns.set_a(new, "192.0.2.20")  # AWS's DNS answers for the new load balancer's name
        hub.fake_tofu.scenario({"outputs": {"hub_load_balancer_hostname": new}})
        folder = _incident_template["base"]
        folders = {
            "root": hub.root,
            "records": hub.records_dir,
            "fake-tofu": hub.fake_tofu.bin_dir.parent,
        }
        for name, source in folders.items():
            shutil.copytree(source, folder / name, symlinks=True)
        _incident_template["world"] = IncidentWorld(
            folder=folder,
            paths={name: str(source) for name, source in folders.items()},
            moto=MotoSnapshot(),
            dns={name: _dns_state(server) for name, server in servers.items()},
            hostname=hub.hostname,
            new=new,
            record_name=record_file.name,
        )
        return hub, authoritative_dns, record_file, new
    root, records = project_repo.path, tmp_path / "records"  # the folders hub_world would use
    folders = {"root": root, "records": records, "fake-tofu": fake_tofu.bin_dir.parent}
    renames = {world.paths[name]: str(target) for name, target in folders.items()}
    for name, target in folders.items():
        copy_rewritten(world.folder / name, target, renames)
    restore_moto(world.moto)
    for name, server in servers.items():
        _set_dns_state(server, world.dns[name])
    hub = hub_of("cae", root, dns_server, fake_tofu, records, world.hostname)
    return hub, authoritative_dns, records / "cae" / world.record_name, world.new

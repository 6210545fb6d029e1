"""Fixture plugin: the hub's front door (modules/edge) made by the real engine in moto's server.

`engine_edge` is `engine_hub`'s world (a git repository whose one environment, `cae`, is
production, its state in moto's S3 behind `invoke backend`, its domain on the loopback DNS
server) with `tests/engine_fixture_edge/` as the root module: the project's own modules/edge (an
application load balancer, its http listener, the proxy's target group, the security groups),
tagged as the hub's front door, with the root outputs hub_front_door_dns_name and
hub_load_balancer_hostname naming it, as front_door = "alb" has them.

The engine applies it once per worker, for the first test that asks; later tests get that world
back (`AppliedEdge`): the folder the apply left (checkout, origin, records, the initialised data
directory) and moto's objects as the apply left them (`MotoSnapshot`: the same ids, attributes
and state object), which the engine then refreshes as its own. An application load balancer costs
the aws provider a minute however fast moto answers: it waits a fixed 30 s before each of its two
"is it active yet?" polls (internal/service/elbv2: waitLoadBalancerActive's Delay), a wait no
setting of the fixture's shortens, so the world is built once instead. The tests that use it run
on one worker (`xdist_group`, tests/conftest.py), so it is built once per run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.engine_hub import ENV_NAME, PREDECESSOR, EngineHub, make_fixture_repo
from tests.support.git_repo import GitRepo
from tests.support.hub_world import record_successful_apply
from tests.support.moto_server import TEST_REGION, MotoSnapshot, restore_moto

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "engine_fixture_edge"
EDGE_MODULE = TESTS.parent / "modules" / "edge"


def front_door_hostnames() -> list[str]:
    """DNS names of the application load balancers in moto, sorted."""
    import boto3

    elbv2 = boto3.client("elbv2", region_name=TEST_REGION)
    return sorted(
        lb["DNSName"].lower()
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]
        if lb["Type"] == "application"
    )


@dataclass
class AppliedEdge:
    """What the engine's first apply of the front door left: its folder, and moto's objects."""

    work: Path  # checkout, origin.git, records, direct (the data directory), as the apply left them
    moto: MotoSnapshot
    hostname: str


# Built once per run, not once per worker: its tests share one worker (`--dist loadgroup`,
# pyproject.toml; tests/support/tiers.py).
FIXTURE_MARKS = {"engine_edge": pytest.mark.xdist_group("engine-edge")}


@pytest.fixture(scope="session")
def _engine_edge_template(real_engine, tmp_path_factory):
    """Per worker: the fixture repository (its lock file made by the engine), and, once the
    first test has applied it, the world that apply made."""
    base = tmp_path_factory.mktemp("engine-edge-template")
    make_fixture_repo(
        base / "checkout",
        real_engine,
        fixture=FIXTURE,
        modules=(EDGE_MODULE,),
        message="The hub's front door, made by the engine (tests/engine_fixture_edge)",
    )
    template = {"base": base, "applied": None}
    yield template
    if template["applied"] is not None:
        template["applied"].moto.discard()


def _hub(work: Path, real_engine, dns_server) -> EngineHub:
    repo = GitRepo(work / "checkout")
    repo.git("remote", "set-url", "origin", str(work / "origin.git"))
    return EngineHub(
        repo=repo, real_engine=real_engine, dns=dns_server, records_dir=work / "records", work=work
    )


@pytest.fixture
def engine_edge(real_engine, aws_env, dns_server, tmp_path, _engine_edge_template) -> EngineHub:
    """The cae hub's front door applied by the real engine in moto; DNS points at it."""
    work = tmp_path / "engine-edge"
    applied: AppliedEdge | None = _engine_edge_template["applied"]
    if applied is None:
        work.mkdir()
        for name in ("checkout", "origin.git"):
            shutil.copytree(_engine_edge_template["base"] / name, work / name, symlinks=True)
        hub = _hub(work, real_engine, dns_server)
        record_successful_apply(hub.root, hub.records_dir, PREDECESSOR)
        made = hub.invoke("backend", "--env", ENV_NAME)
        assert made.returncode == 0, made.stdout + made.stderr
        hub.apply_directly()
        hub.hostname = hub.output_hostname()
        kept = _engine_edge_template["base"] / "applied"
        shutil.copytree(work, kept, symlinks=True)
        _engine_edge_template["applied"] = AppliedEdge(kept, MotoSnapshot(), hub.hostname)
    else:
        shutil.copytree(applied.work, work, symlinks=True)
        hub = _hub(work, real_engine, dns_server)
        restore_moto(applied.moto)
        # The engine reads the restored state back from moto's S3 (its backend, its KMS key).
        hub.hostname = hub.output_hostname()
        assert hub.hostname == applied.hostname
    assert front_door_hostnames() == [hub.hostname]
    hub.point_dns_at(hub.hostname)
    return hub

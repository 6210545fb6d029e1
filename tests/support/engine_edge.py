"""Fixture plugin: the hub's front door (modules/edge) made by the real engine in moto's server.

`engine_edge` is `engine_hub`'s world (a git repository whose one environment, `cae`, is
production, its state in moto's S3 behind `invoke backend`, its domain on the loopback DNS
server) with `tests/engine_fixture_edge/` as the root module: the project's own modules/edge (an
application load balancer, its http listener, the proxy's target group, the security groups),
tagged as the hub's front door, with the root outputs hub_front_door_dns_name and
hub_load_balancer_hostname naming it, as front_door = "alb" has them. Unlike `engine_hub` it is
applied by the engine for every test (a handful of tests; no snapshot of moto's ids to restore).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.engine_hub import ENV_NAME, PREDECESSOR, EngineHub, make_fixture_repo
from tests.support.git_repo import GitRepo
from tests.support.hub_world import record_successful_apply
from tests.support.moto_server import TEST_REGION

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


@pytest.fixture(scope="session")
def _engine_edge_template(real_engine, tmp_path_factory) -> Path:
    """Per worker: the fixture repository, its lock file made by the engine."""
    base = tmp_path_factory.mktemp("engine-edge-template")
    make_fixture_repo(
        base / "checkout",
        real_engine,
        fixture=FIXTURE,
        modules=(EDGE_MODULE,),
        message="The hub's front door, made by the engine (tests/engine_fixture_edge)",
    )
    return base


@pytest.fixture
def engine_edge(real_engine, aws_env, dns_server, tmp_path, _engine_edge_template) -> EngineHub:
    """The cae hub's front door applied by the real engine in moto; DNS points at it."""
    work = tmp_path / "engine-edge"
    work.mkdir()
    for name in ("checkout", "origin.git"):
        shutil.copytree(_engine_edge_template / name, work / name, symlinks=True)
    repo = GitRepo(work / "checkout")
    repo.git("remote", "set-url", "origin", str(work / "origin.git"))
    hub = EngineHub(
        repo=repo, real_engine=real_engine, dns=dns_server, records_dir=work / "records", work=work
    )
    record_successful_apply(repo.path, hub.records_dir, PREDECESSOR)
    made = hub.invoke("backend", "--env", ENV_NAME)
    assert made.returncode == 0, made.stdout + made.stderr
    hub.engine("init", "-input=false", f"-backend-config=environments/{ENV_NAME}/backend.hcl")
    hub.engine(
        "apply",
        "-input=false",
        "-auto-approve",
        f"-var-file=environments/{ENV_NAME}/terraform.tfvars",
    )
    hub.hostname = hub.output_hostname()
    assert front_door_hostnames() == [hub.hostname]
    hub.point_dns_at(hub.hostname)
    return hub

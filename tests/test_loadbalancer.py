"""Finding the hub's load balancer(s) by their Kubernetes tags, against moto's server."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest

from hubops.adapters import loadbalancer
from hubops.facts.environments import load_environment
from hubops.facts.errors import AwsError
from hubops.adapters.loadbalancer import LoadBalancer, find_hub_load_balancers
from tests.support import aws_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cae(aws_env):
    return load_environment(ROOT, "cae")


def hub_lb(env, **kwargs) -> str:
    return aws_world.create_hub_load_balancer(
        cluster_name=env.cluster_name, hub_namespace=env.hub_namespace, region=env.region, **kwargs
    )


def test_finds_the_hubs_network_load_balancer_by_the_cloud_providers_tags(cae):
    hostname = hub_lb(cae)

    [found] = find_hub_load_balancers(cae)

    assert found.hostname == hostname
    assert found.kind == "elbv2"
    assert found.name == hostname.split("-")[0]
    assert found.identifier.startswith("arn:aws:elasticloadbalancing:us-west-2:123456789012:")
    assert found.identifier.split("/")[2] == found.name


def test_finds_a_classic_load_balancer_by_the_same_tags(cae):
    hostname = hub_lb(cae, kind="elb")

    [found] = find_hub_load_balancers(cae)

    assert found == LoadBalancer(
        hostname=hostname, kind="elb", name=found.name, identifier=found.name
    )
    assert hostname.startswith(found.name + ".")


def test_finds_a_load_balancer_made_by_the_aws_load_balancer_controller(cae):
    hostname = hub_lb(cae, controller=aws_world.LB_CONTROLLER)

    assert [lb.hostname for lb in find_hub_load_balancers(cae)] == [hostname]


@pytest.mark.parametrize("kind", ["elbv2", "elb"])
def test_ignores_load_balancers_of_other_services_namespaces_and_clusters(cae, kind):
    others = [
        dict(cluster_name="cae", namespace="jupyterhub", service="dask-gateway"),
        dict(cluster_name="cae", namespace="other", service="proxy-public"),
        dict(cluster_name="cae-dev", namespace="jupyterhub", service="proxy-public"),
    ]
    for other in others:
        for controller in (aws_world.IN_TREE, aws_world.LB_CONTROLLER):
            aws_world.create_service_load_balancer(
                region=cae.region, kind=kind, controller=controller, **other
            )
    hostname = hub_lb(cae, kind=kind)

    assert [lb.hostname for lb in find_hub_load_balancers(cae)] == [hostname]


def test_a_load_balancer_the_cluster_only_shares_is_not_the_hubs(cae):
    hub_lb(cae)
    [arn] = [
        lb["LoadBalancerArn"]
        for lb in boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]
    ]
    boto3.client("elbv2").add_tags(
        ResourceArns=[arn], Tags=[{"Key": "kubernetes.io/cluster/cae", "Value": "shared"}]
    )

    assert find_hub_load_balancers(cae) == []


def test_reports_every_candidate_sorted_by_hostname(cae):
    hostnames = [hub_lb(cae), hub_lb(cae, kind="elb"), hub_lb(cae)]

    found = find_hub_load_balancers(cae)

    assert [lb.hostname for lb in found] == sorted(hostnames)
    assert sorted(lb.kind for lb in found) == ["elb", "elbv2", "elbv2"]
    assert find_hub_load_balancers(cae) == found


def test_finds_nothing_when_the_hub_has_no_load_balancer(cae):
    aws_world.create_service_load_balancer(
        cluster_name="cae", namespace="jupyterhub", service="dask-gateway", region=cae.region
    )

    assert find_hub_load_balancers(cae) == []


def test_finds_the_hub_across_pages_and_tag_batches(cae, monkeypatch):
    # More load balancers than one DescribeTags call may name (20), over several small pages.
    monkeypatch.setattr(loadbalancer, "PAGE_SIZE", 7)
    for _ in range(loadbalancer.TAGS_BATCH + 2):
        aws_world.create_service_load_balancer(
            cluster_name="cae", namespace="jupyterhub", service="dask-gateway", region=cae.region
        )
    last = [hub_lb(cae), hub_lb(cae, kind="elb")]

    assert [lb.hostname for lb in find_hub_load_balancers(cae)] == sorted(last)


def test_an_aws_fault_becomes_an_aws_error_naming_the_call(cae, moto_server):
    hub_lb(cae)
    moto_server.reject_credentials()

    with pytest.raises(AwsError) as raised:
        find_hub_load_balancers(cae)

    assert str(raised.value).startswith(
        "AWS describe_load_balancers failed: InvalidClientTokenId: The security token included "
        "in the request is invalid."
    )
    assert str(raised.value).endswith(
        "Check that your shell's AWS credentials belong to the environment's account and may do "
        "this (`invoke whoami --env ENV` shows who you are)."
    )


def test_unreachable_aws_becomes_an_aws_error_after_bounded_retries(cae, monkeypatch):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HUBOPS_AWS_RETRY_SECONDS", "0.3")

    with pytest.raises(AwsError) as raised:
        find_hub_load_balancers(cae)

    assert str(raised.value) == (
        f"AWS describe_load_balancers failed: Could not connect to the endpoint URL: "
        f'"http://127.0.0.1:{port}/" (after retrying for 0.3s). Check your network and AWS '
        "settings (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and try again."
    )


def test_deleting_the_hubs_load_balancers_leaves_the_others(cae):
    # The fake tofu relies on this to act out a load balancer replacement.
    where = dict(cluster_name=cae.cluster_name, hub_namespace=cae.hub_namespace, region=cae.region)
    other = aws_world.create_service_load_balancer(
        cluster_name="cae", namespace="jupyterhub", service="dask-gateway", region=cae.region
    )
    hub = sorted(
        [hub_lb(cae), hub_lb(cae, kind="elb"), hub_lb(cae, controller=aws_world.LB_CONTROLLER)]
    )
    assert aws_world.hub_load_balancer_hostnames(**where) == hub

    assert aws_world.delete_hub_load_balancers(**where) == hub

    assert aws_world.hub_load_balancer_hostnames(**where) == []
    assert find_hub_load_balancers(cae) == []
    remaining = boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert [lb["DNSName"] for lb in remaining] == [other]

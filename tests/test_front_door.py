"""The hub's own front door (modules/edge) in the routing snapshot and the verdict: found by the
root module's output or the tree's tag, and, with both front doors up, DNS may point at either."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from hubops.facts.environments import load_environment
from hubops.adapters.loadbalancer import FRONT_DOOR_TAG, LoadBalancer, find_hub_routing
from hubops.facts.routing import DnsSeen, Snapshot
from hubops.facts.verdict import check, decide
from tests.support import aws_world

ROOT = Path(__file__).resolve().parents[1]
SERVICE_LB = "a1b2c3-111.us-west-2.elb.amazonaws.com"
NEW_SERVICE_LB = "d4e5f6-222.us-west-2.elb.amazonaws.com"
ALB = "cae-hub-333.us-west-2.elb.amazonaws.com"


@pytest.fixture
def cae():
    return load_environment(ROOT, "cae")


def lb(hostname: str, kind: str = "elbv2") -> LoadBalancer:
    return LoadBalancer(
        hostname=hostname, kind=kind, name=hostname.split("-")[0], identifier=hostname
    )


def snapshot(services: list[str], doors: list[str], cname: str | None, output: str | None = None):
    return Snapshot(
        taken_at="2026-12-04T00:00:00Z",
        load_balancers=[lb(h, "elb") for h in services],
        front_doors=[lb(h) for h in doors],
        front_door_output=doors[0] if doors else None,
        output_hostname=output,
        domain="hub.example.org",
        dns=DnsSeen(status="ok", cname_chain=[cname], addresses=["192.0.2.1"]) if cname else None,
    )


def test_with_both_front_doors_dns_may_point_at_the_front_door_and_says_so(cae):
    verdict = check(cae, snapshot([SERVICE_LB], [ALB], cname=ALB, output=SERVICE_LB))

    assert not verdict.changed, verdict.findings
    assert verdict.lines(cae) == [
        f"Routing unchanged: cae is served by {ALB} and hub.example.org points at it. It is the "
        "hub's front door (the tree's application load balancer); the Service's load balancer "
        f"{SERVICE_LB} still answers too."
    ]


def test_with_both_front_doors_dns_may_still_point_at_the_services_and_says_so(cae):
    verdict = check(cae, snapshot([SERVICE_LB], [ALB], cname=SERVICE_LB, output=SERVICE_LB))

    assert not verdict.changed, verdict.findings
    assert verdict.lines(cae) == [
        f"Routing unchanged: cae is served by {SERVICE_LB} and hub.example.org points at it. It is "
        f"the Service's load balancer; the hub's front door {ALB} answers too (switch DNS to it "
        "when tested)."
    ]


def test_with_both_front_doors_dns_pointing_at_neither_names_both(cae):
    verdict = check(cae, snapshot([SERVICE_LB], [ALB], cname="old.example.net"))

    assert verdict.changed
    assert verdict.findings == [
        f"DNS for hub.example.org points at old.example.net, not at the load balancer {SERVICE_LB} "
        f"(the Service's) nor at the front door {ALB}"
    ]


def test_a_moved_service_load_balancer_while_dns_points_at_it_is_a_routing_change(cae):
    before = snapshot([SERVICE_LB], [ALB], cname=SERVICE_LB)
    after = snapshot([NEW_SERVICE_LB], [ALB], cname=SERVICE_LB)

    verdict = decide(cae, before, after)

    assert verdict.changed
    assert verdict.findings[0] == f"load balancer replaced: was {SERVICE_LB}, now {NEW_SERVICE_LB}"
    assert verdict.dns_record == f"hub.example.org CNAME {NEW_SERVICE_LB}  (was {SERVICE_LB})"


def test_a_moved_service_load_balancer_after_dns_switched_to_the_front_door_changes_nothing(cae):
    before = snapshot([SERVICE_LB], [ALB], cname=ALB)
    after = snapshot([NEW_SERVICE_LB], [ALB], cname=ALB)

    assert not decide(cae, before, after).changed


def test_the_old_load_balancer_going_while_dns_points_at_the_front_door_changes_nothing(cae):
    before = snapshot([SERVICE_LB], [ALB], cname=ALB)
    after = snapshot([], [ALB], cname=ALB)

    verdict = decide(cae, before, after)

    assert not verdict.changed, verdict.findings
    assert verdict.new_hostname == ALB


def test_the_old_load_balancer_going_before_dns_switched_gives_the_record_to_set(cae):
    before = snapshot([SERVICE_LB], [ALB], cname=SERVICE_LB)
    after = snapshot([], [ALB], cname=SERVICE_LB)

    verdict = decide(cae, before, after)

    assert verdict.changed
    assert verdict.dns_record == f"hub.example.org CNAME {ALB}  (was {SERVICE_LB})"


def test_a_front_door_the_outputs_name_but_aws_does_not_have_is_a_problem(cae):
    missing = snapshot([], [], cname=ALB)
    missing.front_door_output = ALB

    verdict = check(cae, missing)

    assert verdict.changed
    assert verdict.findings == [
        f"tofu output hub_front_door_dns_name={ALB} names no load balancer in AWS "
        "(region=us-west-2)"
    ]


def test_the_front_door_is_found_by_the_outputs_name_or_by_the_trees_tag(aws_env, cae):
    service = aws_world.create_hub_load_balancer(
        cluster_name=cae.cluster_name, hub_namespace=cae.hub_namespace, region=cae.region
    )
    elbv2 = boto3.client("elbv2", region_name=cae.region)
    subnets = [
        s["SubnetId"]
        for s in boto3.client("ec2", region_name=cae.region).describe_subnets()["Subnets"]
    ][:2]
    created = elbv2.create_load_balancer(
        Name="cae-hub", Subnets=subnets, Type="application", Scheme="internet-facing",
        Tags=[{"Key": FRONT_DOOR_TAG, "Value": cae.service_tag}],
    )  # fmt: skip
    door = created["LoadBalancers"][0]["DNSName"].lower()

    by_tag = find_hub_routing(cae)
    by_output = find_hub_routing(cae, door)
    by_wrong_output = find_hub_routing(cae, "nowhere.example.org")

    assert [x.hostname for x in by_tag[0]] == [service]
    assert [x.hostname for x in by_tag[1]] == [door]
    assert [x.hostname for x in by_output[1]] == [door]
    assert by_wrong_output[1] == []

"""The hub's own front door (modules/edge) in the routing snapshot and the verdict: found by the
tree's tag, which names the environment's cluster (every environment may share one account, region
and namespace), and the root module's output, which must name a load balancer carrying that tag;
with both front doors up, DNS may point at either."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubops.adapters.environment_files import load_environment
from hubops.adapters.loadbalancer import find_hub_routing
from hubops.facts.dns_answer import DnsAnswer, DnsStatus
from hubops.facts.hub_load_balancers import LoadBalancer, front_door_identity
from hubops.facts.routing import Snapshot
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
        dns=DnsAnswer(DnsStatus.OK, [cname], ["192.0.2.1"]) if cname else None,
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


def _front_doors_of_every_environment(
    region: str, names=("cae-testing", "cae-dev", "cae")
) -> dict[str, str]:
    """Each environment's front door, tagged as modules/edge tags it, in one account, region and
    namespace (as the environments' tfvars put them); environment -> DNS name."""
    doors = {}
    for name in names:
        env = load_environment(ROOT, name)
        doors[name] = aws_world.create_front_door(
            name=f"{env.cluster_name}-hub", tag=front_door_identity(env), region=region
        )
    return doors


def test_each_environment_finds_its_own_front_door_among_all_three(aws_env, cae):
    doors = _front_doors_of_every_environment(cae.region)
    # A front door tagged the old way names only the Service, which every environment shares.
    aws_world.create_front_door(name="old-hub", tag=cae.service_tag, region=cae.region)

    for name, door in doors.items():
        found = find_hub_routing(load_environment(ROOT, name))
        assert [lb.hostname for lb in found.front_doors] == [door], name
        assert found.untagged_named == []


def test_the_front_door_the_output_names_must_carry_this_environments_tag(aws_env, cae):
    service = aws_world.create_hub_load_balancer(
        cluster_name=cae.cluster_name, hub_namespace=cae.hub_namespace, region=cae.region
    )
    doors = _front_doors_of_every_environment(cae.region)

    by_output = find_hub_routing(cae, doors["cae"])
    by_another_environments = find_hub_routing(cae, doors["cae-testing"])
    by_wrong_output = find_hub_routing(cae, "nowhere.example.org")

    assert [lb.hostname for lb in by_output.services] == [service]
    assert [lb.hostname for lb in by_output.front_doors] == [doors["cae"]]
    assert by_another_environments.front_doors == []
    assert [lb.hostname for lb in by_another_environments.untagged_named] == [doors["cae-testing"]]
    assert by_wrong_output.front_doors == by_wrong_output.untagged_named == []


def test_production_never_takes_another_environments_front_door_for_its_own(hub_world):
    hub = hub_world("cae")
    # Production is served by its Service's load balancer (front_door "service"), the others by
    # their front doors, all in one account, region and namespace.
    doors = _front_doors_of_every_environment(hub.region, ("cae-testing", "cae-dev"))

    checked = hub.invoke("dns-check", "--env", "cae")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == (
        f"Routing unchanged: cae is served by {hub.hostname} and hub.example.org points at it.\n"
    )

    # DNS pointed at the any-password testing hub's front door is no routing of production's.
    hub.dns.set_cname("hub.example.org", doors["cae-testing"])

    checked = hub.invoke("dns-check", "--env", "cae")
    shown = hub.invoke("status", "--env", "cae")

    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert checked.stdout == (
        "Routing changed or could not be verified for cae:\n"
        f"  - DNS for hub.example.org points at {doors['cae-testing']}, not at the load balancer "
        f"{hub.hostname}\n"
        "Set this DNS record by hand so that users can log in:\n"
        f"  hub.example.org CNAME {hub.hostname}  (was {doors['cae-testing']})\n"
    )
    assert "Front door" not in shown.stdout
    assert "Routing: NOT OK\n" in shown.stdout
    assert doors["cae-dev"] not in checked.stdout + shown.stdout


def test_a_front_door_output_naming_another_environments_load_balancer_is_not_trusted(hub_world):
    hub = hub_world("cae")
    doors = _front_doors_of_every_environment(hub.region)
    hub.fake_tofu.scenario(
        {
            "outputs": {
                "hub_load_balancer_hostname": hub.hostname,
                "hub_front_door_dns_name": doors["cae-testing"],
            }
        }
    )
    hub.invoke("plan", "--env", "cae")  # initialises: status then reads the state's outputs

    shown = hub.invoke("status", "--env", "cae")

    assert (
        "Routing: NOT OK\n"
        "  - could not verify: tofu output hub_front_door_dns_name names "
        f"{doors['cae-testing']}, which is not tagged as cae's front door "
        "(hub.front-door=cae/jupyterhub/proxy-public): it may be another environment's, so it is "
        "not taken for this hub's\n"
    ) in shown.stdout


@pytest.mark.parametrize("value", [42, ["a.example.org"], "   "])
def test_a_front_door_output_that_is_no_hostname_is_an_error(hub_world, value):
    hub = hub_world("cae")
    hub.fake_tofu.scenario(
        {"outputs": {"hub_load_balancer_hostname": hub.hostname, "hub_front_door_dns_name": value}}
    )
    hub.invoke("plan", "--env", "cae")

    shown = hub.invoke("status", "--env", "cae")

    assert (
        "Routing: NOT OK\n"
        f"  - could not verify: tofu output hub_front_door_dns_name is {value!r}, not a hostname\n"
    ) in shown.stdout


def test_the_both_phase_backs_out_under_productions_guard(hub_world):
    """The runbook's step 1 back-out in production: front_door = "service" again deletes the new
    front door while DNS still points at the Service's load balancer; the guard asks for the
    address, and the routing stays unchanged."""
    hub = hub_world("cae")
    cae = load_environment(hub.root, "cae")
    door = aws_world.create_front_door(
        name="cae-hub", tag=front_door_identity(cae), region=hub.region
    )
    hub.dns.set_a(door, "192.0.2.30")
    front_door = "module.edge[0].aws_lb.hub"
    hub.fake_tofu.scenario(
        {
            "plan": {
                "resource_changes": [
                    {"address": front_door, "actions": ["delete"]},
                    {"address": "module.edge[0].aws_lb_target_group.proxy", "actions": ["delete"]},
                ]
            },
            "outputs": {
                "hub_load_balancer_hostname": hub.hostname,
                "hub_front_door_dns_name": door,
            },
        }
    )
    shown = hub.invoke("plan", "--env", "cae")  # status then reads the state's outputs
    assert shown.returncode == 0, shown.stderr
    status = hub.invoke("status", "--env", "cae")
    assert "DNS hub.example.org points at the Service's load balancer, not yet at the front " in (
        status.stdout
    )

    refused = hub.invoke("apply", "--env", "cae", "--yes")
    backed_out = hub.invoke("apply", "--env", "cae", "--yes", "--allow-destroy", front_door)

    assert refused.returncode == 1
    assert f"--allow-destroy '{front_door}'" in refused.stderr
    assert "Routing forecast: high" in refused.stdout
    assert backed_out.returncode == 0, backed_out.stdout + backed_out.stderr
    assert (
        f"Routing unchanged: cae is served by {hub.hostname} and hub.example.org points at it."
    ) in backed_out.stdout
    assert hub.records()[-1]["acknowledged_destroys"] == [front_door]

"""`invoke apply` with the real engine over the hub's own front door (modules/edge, in moto).

The front door's address is the tree's: a change to anything else leaves it, and the supervised
apply says so; a plan that would replace it in production is refused until acknowledged, and is
forecast high. Skipped, with the reason, where no engine or provider mirror is installed.
"""

from __future__ import annotations

from tests.support import aws_world
from tests.support.engine_edge import front_door_hostnames
from tests.support.engine_hub import DOMAIN, ENV_NAME
from tests.support.moto_server import TEST_REGION

FRONT_DOOR = "module.edge.aws_lb.hub"


def test_a_change_elsewhere_leaves_the_front_door_and_routing_unchanged(engine_edge):
    hub = engine_edge
    hub.commit_vars("A new hub release", hub_release_revision="2")

    result = hub.invoke("apply", "--env", ENV_NAME, "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"Routing unchanged: {ENV_NAME} is served by {hub.hostname} and {DOMAIN} points at it."
        in result.stdout
    )
    assert "Routing forecast: low" in result.stdout
    assert hub.output_hostname() == hub.hostname
    assert front_door_hostnames() == [hub.hostname]
    [record] = hub.records()
    assert record["applied"] is True
    assert record["exit_status"] == 0
    assert record["after"]["front_doors"][0]["hostname"] == hub.hostname

    # Without the state (dns-check runs no tofu) the front door is found by the tree's tag, which
    # names the cluster: the other environments' front doors in the same account, region and
    # namespace are not this hub's.
    for other in ("cae-testing", "cae-dev"):
        aws_world.create_front_door(
            name=f"{other}-hub", tag=f"{other}/jupyterhub/proxy-public", region=TEST_REGION
        )
    checked = hub.invoke("dns-check", "--env", ENV_NAME)
    shown = hub.invoke("status", "--env", ENV_NAME)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "(It is the hub's front door, the tree's application load balancer.)" in checked.stdout
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"Front door: {hub.hostname} (application load balancer;" in shown.stdout
    assert f"DNS {DOMAIN} points at the front door." in shown.stdout
    assert "Routing: OK" in shown.stdout


def test_replacing_the_front_door_is_refused_unless_acknowledged_and_forecast_high(engine_edge):
    hub = engine_edge
    hub.commit_vars("The front door, second generation", front_door_generation="2")

    refused = hub.invoke("apply", "--env", ENV_NAME, "--yes")

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Routing forecast: high" in refused.stdout
    assert f"  high   {FRONT_DOOR}: the hub's front door" in refused.stdout
    assert f"{FRONT_DOOR}: the hub's front door: its DNS name is what the domain points at" in (
        refused.stderr
    )
    assert f"--allow-destroy '{FRONT_DOOR}'" in refused.stderr
    assert front_door_hostnames() == [hub.hostname]

    allowed = hub.invoke("apply", "--env", ENV_NAME, "--yes", "--allow-destroy", FRONT_DOOR)

    new = hub.output_hostname()
    assert new != hub.hostname
    assert front_door_hostnames() == [new]
    assert allowed.returncode == 3, allowed.stdout + allowed.stderr
    assert f"  {DOMAIN} CNAME {new}  (was {hub.hostname})\n" in allowed.stdout
    assert f"  - load balancer replaced: was {hub.hostname}, now {new}\n" in allowed.stdout
    record = hub.records()[-1]
    assert record["acknowledged_destroys"] == [FRONT_DOOR]
    assert record["exit_status"] == 3

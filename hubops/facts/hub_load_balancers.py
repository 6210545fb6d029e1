"""What the hub's load balancers are, and which tags make a load balancer the hub's.

`hubops.adapters.loadbalancer` finds them in AWS; these facts about them need no AWS to be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubops.facts.environments import Environment


@dataclass(frozen=True)
class LoadBalancer:
    hostname: str  # DNSName as AWS reports it, lower case
    kind: str  # "elbv2" (network/application) or "elb" (classic)
    name: str
    identifier: str  # ARN for elbv2, name for classic


def is_hub_proxy(tags: dict[str, str], env: Environment) -> bool:
    """Whether a load balancer's tags say it serves `env`'s hub proxy Service in its cluster."""
    in_tree = (
        tags.get("kubernetes.io/service-name") == env.service_tag
        and tags.get(f"kubernetes.io/cluster/{env.cluster_name}") == "owned"
    )
    controller = (
        tags.get("service.k8s.aws/stack") == env.service_tag
        and tags.get("elbv2.k8s.aws/cluster") == env.cluster_name
    )
    return in_tree or controller


# The tag the tree puts on the hub's application load balancer (modules/edge).
FRONT_DOOR_TAG = "hub.front-door"


def front_door_identity(env: Environment) -> str:
    """The value of `env`'s front door's tag: its cluster as well as the Service.

    Every environment may share one account, region and namespace, so the Service alone names
    every environment's front door; the cluster's name is unique in an account's region.
    """
    return f"{env.cluster_name}/{env.service_tag}"


def is_front_door(tags: dict[str, str], env: Environment) -> bool:
    """Whether a load balancer's tags say the tree made it as `env`'s front door."""
    return tags.get(FRONT_DOOR_TAG) == front_door_identity(env)

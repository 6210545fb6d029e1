"""Find the hub's load balancer(s) in AWS by the tags Kubernetes puts on them.

The hub is reached through Zero to JupyterHub's `proxy-public` Service of type LoadBalancer.
Whichever controller created its load balancer tags it with the Service and the cluster:
- the in-tree cloud provider (classic ELB or NLB): `kubernetes.io/service-name = NS/proxy-public`
  and `kubernetes.io/cluster/CLUSTER = owned`;
- the AWS Load Balancer Controller (NLB): `service.k8s.aws/stack = NS/proxy-public` and
  `elbv2.k8s.aws/cluster = CLUSTER`.
Zero, one or several matches are all returned; what they mean is the verdict's business.

The hub's own front door (an application load balancer the OpenTofu tree makes, modules/edge) is
no Service's: the tree tags it `hub.front-door = CLUSTER/NS/proxy-public`, and the root module
names it (the output `hub_front_door_dns_name`). A front door is this environment's only when it
carries this environment's tag: the output, where given, narrows the tagged ones to the one it
names, and a load balancer the output names without the tag is returned apart (another
environment's, or anyone's) so that it is never taken for, nor recommended as, the hub's.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubops.facts.environments import Environment
from hubops.facts.hub_load_balancers import LoadBalancer, is_front_door, is_hub_proxy

# DescribeTags accepts at most 20 load balancers per call, for ELBv2 and classic ELB alike.
TAGS_BATCH = 20
# DescribeLoadBalancers' largest page (both APIs): the fewest calls in a busy account.
PAGE_SIZE = 400


@dataclass(frozen=True)
class HubRouting:
    """What AWS has for the hub, each list sorted."""

    services: list[LoadBalancer]  # the proxy Service's load balancers
    front_doors: list[LoadBalancer]  # tagged as this environment's front door
    # The load balancer the root module's output names, where it lacks this environment's tag.
    untagged_named: list[LoadBalancer]


def find_hub_load_balancers(env: Environment) -> list[LoadBalancer]:
    """The load balancers tagged as `env`'s hub proxy, sorted by hostname; raises AwsError."""
    return find_hub_routing(env).services


def find_hub_routing(env: Environment, front_door: str | None = None) -> HubRouting:
    """The hub's load balancers in AWS; raises AwsError.

    A front door carries `env`'s front-door tag and, where `front_door` (the root module's output)
    is given, has that DNS name. One listing serves both.
    """
    from hubops.adapters import aws

    services, doors, untagged = [], [], []
    for api in _APIS:
        found = _find(aws.client(api.kind, env.region), env, api, front_door)
        services += found.services
        doors += found.front_doors
        untagged += found.untagged_named
    return HubRouting(_sorted(services), _sorted(doors), _sorted(untagged))


def _sorted(found: list[LoadBalancer]) -> list[LoadBalancer]:
    return sorted(found, key=lambda lb: (lb.hostname, lb.kind, lb.identifier))


@dataclass(frozen=True)
class _Api:
    """How one ELB generation's API names things; the two differ only in these names."""

    kind: str
    list_key: str  # DescribeLoadBalancers' result list
    id_key: str  # the identifier in it, which DescribeTags takes
    tags_param: str  # DescribeTags' parameter
    tags_id_key: str  # the identifier in DescribeTags' result


_APIS = (
    _Api("elbv2", "LoadBalancers", "LoadBalancerArn", "ResourceArns", "ResourceArn"),
    _Api(
        "elb",
        "LoadBalancerDescriptions",
        "LoadBalancerName",
        "LoadBalancerNames",
        "LoadBalancerName",
    ),
)


def _find(client, env: Environment, api: _Api, front_door: str | None = None) -> HubRouting:
    from hubops.adapters import aws

    described = {
        lb[api.id_key]: lb
        for lb in aws.paginate(client, "describe_load_balancers", api.list_key, PageSize=PAGE_SIZE)
        # Gateway load balancers (ELBv2) have no DNS name and cannot front the hub.
        if lb.get("Type") != "gateway"
    }
    tags = _tags(client, api.tags_param, api.tags_id_key, list(described))
    services, doors, untagged = [], [], []
    for identifier, lb in described.items():
        found = LoadBalancer(
            hostname=lb["DNSName"].lower().rstrip("."),
            kind=api.kind,
            name=lb["LoadBalancerName"],
            identifier=identifier,
        )
        lb_tags = tags.get(identifier, {})
        named = front_door is None or found.hostname == front_door
        if is_hub_proxy(lb_tags, env):
            services.append(found)
        elif is_front_door(lb_tags, env) and named:
            doors.append(found)
        elif front_door is not None and named:
            untagged.append(found)
    return HubRouting(services, doors, untagged)


def _tags(client, param: str, id_key: str, identifiers: list[str]) -> dict[str, dict[str, str]]:
    """Tags of each load balancer, fetched in batches of TAGS_BATCH."""
    from hubops.adapters import aws

    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(identifiers), TAGS_BATCH):
        batch = identifiers[start : start + TAGS_BATCH]
        response = aws.call(client.describe_tags, **{param: batch})
        for description in response.get("TagDescriptions", []):
            tags[description[id_key]] = {t["Key"]: t.get("Value", "") for t in description["Tags"]}
    return tags

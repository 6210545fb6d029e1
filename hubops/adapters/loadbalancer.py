"""Find the hub's load balancer(s) in AWS by the tags Kubernetes puts on them.

The hub is reached through Zero to JupyterHub's `proxy-public` Service of type LoadBalancer.
Whichever controller created its load balancer tags it with the Service and the cluster:
- the in-tree cloud provider (classic ELB or NLB): `kubernetes.io/service-name = NS/proxy-public`
  and `kubernetes.io/cluster/CLUSTER = owned`;
- the AWS Load Balancer Controller (NLB): `service.k8s.aws/stack = NS/proxy-public` and
  `elbv2.k8s.aws/cluster = CLUSTER`.
Zero, one or several matches are all returned; what they mean is the verdict's business.

The hub's own front door (an application load balancer the OpenTofu tree makes, modules/edge) is
no Service's: the root module names it (the output `hub_front_door_dns_name`), and the tree tags
it `hub.front-door = NS/proxy-public` for lookups without the state (`dns-check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hubops.facts.environments import Environment

# DescribeTags accepts at most 20 load balancers per call, for ELBv2 and classic ELB alike.
TAGS_BATCH = 20
# DescribeLoadBalancers' largest page (both APIs): the fewest calls in a busy account.
PAGE_SIZE = 400


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


def is_front_door(tags: dict[str, str], env: Environment) -> bool:
    """Whether a load balancer's tags say the tree made it as `env`'s front door."""
    return tags.get(FRONT_DOOR_TAG) == env.service_tag


def find_hub_load_balancers(env: Environment) -> list[LoadBalancer]:
    """The load balancers tagged as `env`'s hub proxy, sorted by hostname; raises AwsError."""
    return find_hub_routing(env)[0]


def find_hub_routing(
    env: Environment, front_door: str | None = None
) -> tuple[list[LoadBalancer], list[LoadBalancer]]:
    """(the proxy Service's load balancers, the front doors), each sorted; raises AwsError.

    A front door is the load balancer whose DNS name is `front_door` (the root module's output)
    where that is given, else any tagged as `env`'s front door. One listing serves both.
    """
    from hubops.adapters import aws

    services, doors = [], []
    for api in _APIS:
        found_services, found_doors = _find(aws.client(api.kind, env.region), env, api, front_door)
        services += found_services
        doors += found_doors
    return _sorted(services), _sorted(doors)


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


def _find(
    client, env: Environment, api: _Api, front_door: str | None = None
) -> tuple[list[LoadBalancer], list[LoadBalancer]]:
    from hubops.adapters import aws

    described = {
        lb[api.id_key]: lb
        for lb in aws.paginate(client, "describe_load_balancers", api.list_key, PageSize=PAGE_SIZE)
        # Gateway load balancers (ELBv2) have no DNS name and cannot front the hub.
        if lb.get("Type") != "gateway"
    }
    tags = _tags(client, api.tags_param, api.tags_id_key, list(described))
    services, doors = [], []
    for identifier, lb in described.items():
        found = LoadBalancer(
            hostname=lb["DNSName"].lower().rstrip("."),
            kind=api.kind,
            name=lb["LoadBalancerName"],
            identifier=identifier,
        )
        lb_tags = tags.get(identifier, {})
        if is_hub_proxy(lb_tags, env):
            services.append(found)
        elif front_door and found.hostname == front_door:
            doors.append(found)
        elif not front_door and is_front_door(lb_tags, env):
            doors.append(found)
    return services, doors


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

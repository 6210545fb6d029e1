"""Find the hub's load balancer(s) in AWS by the tags Kubernetes puts on them.

The hub is reached through Zero to JupyterHub's `proxy-public` Service of type LoadBalancer.
Whichever controller created its load balancer tags it with the Service and the cluster:
- the in-tree cloud provider (classic ELB or NLB): `kubernetes.io/service-name = NS/proxy-public`
  and `kubernetes.io/cluster/CLUSTER = owned`;
- the AWS Load Balancer Controller (NLB): `service.k8s.aws/stack = NS/proxy-public` and
  `elbv2.k8s.aws/cluster = CLUSTER`.
Zero, one or several matches are all returned; what they mean is the verdict's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubops.environments import Environment

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


def find_hub_load_balancers(env: Environment) -> list[LoadBalancer]:
    """The load balancers tagged as `env`'s hub proxy, sorted by hostname; raises AwsError."""
    from hubops import aws

    found = []
    for api in _APIS:
        found += _find(aws.client(api.kind, env.region), env, api)
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


def _find(client, env: Environment, api: _Api) -> list[LoadBalancer]:
    from hubops import aws

    described = {
        lb[api.id_key]: lb
        for lb in aws.paginate(client, "describe_load_balancers", api.list_key, PageSize=PAGE_SIZE)
        # Gateway load balancers (ELBv2) have no DNS name and cannot front the hub.
        if lb.get("Type") != "gateway"
    }
    tags = _tags(client, api.tags_param, api.tags_id_key, list(described))
    return [
        LoadBalancer(
            hostname=lb["DNSName"].lower().rstrip("."),
            kind=api.kind,
            name=lb["LoadBalancerName"],
            identifier=identifier,
        )
        for identifier, lb in described.items()
        if is_hub_proxy(tags.get(identifier, {}), env)
    ]


def _tags(client, param: str, id_key: str, identifiers: list[str]) -> dict[str, dict[str, str]]:
    """Tags of each load balancer, fetched in batches of TAGS_BATCH."""
    from hubops import aws

    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(identifiers), TAGS_BATCH):
        batch = identifiers[start : start + TAGS_BATCH]
        response = aws.call(client.describe_tags, **{param: batch})
        for description in response.get("TagDescriptions", []):
            tags[description[id_key]] = {t["Key"]: t.get("Value", "") for t in description["Tags"]}
    return tags

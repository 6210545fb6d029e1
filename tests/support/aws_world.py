"""Make and remove the AWS resources Kubernetes would, in whatever AWS the environment names.

Plain functions (no pytest) so that the fake tofu can call them in a subprocess, the way a real
apply makes the cloud controller replace the hub's load balancer. boto3 reaches moto's server
through AWS_ENDPOINT_URL, set by the `aws_env` fixture.
"""

from __future__ import annotations

import uuid

import boto3

HUB_SERVICE = "proxy-public"
_VPC_NAME = "hubops-test-vpc"
IN_TREE = "in-tree"  # Kubernetes' own AWS cloud provider
LB_CONTROLLER = "aws-load-balancer-controller"


def service_tags(
    *, cluster_name: str, namespace: str, service: str, controller: str = IN_TREE
) -> dict[str, str]:
    """The tags a controller puts on the load balancer it makes for a Service."""
    if controller == IN_TREE:
        return {
            "kubernetes.io/service-name": f"{namespace}/{service}",
            f"kubernetes.io/cluster/{cluster_name}": "owned",
        }
    if controller == LB_CONTROLLER:
        return {
            "service.k8s.aws/stack": f"{namespace}/{service}",
            "elbv2.k8s.aws/cluster": cluster_name,
        }
    raise ValueError(f"controller must be {IN_TREE!r} or {LB_CONTROLLER!r}, not {controller!r}")


def _subnets(region: str) -> list[str]:
    """Two subnets in a VPC made on first use and found by its Name tag afterwards."""
    ec2 = boto3.client("ec2", region_name=region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [_VPC_NAME]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        return sorted(s["SubnetId"] for s in subnets["Subnets"])
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": _VPC_NAME}]}],
    )["Vpc"]["VpcId"]
    return sorted(
        ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    )


def create_service_load_balancer(
    *,
    cluster_name: str,
    namespace: str,
    service: str,
    region: str,
    kind: str = "elbv2",
    controller: str = IN_TREE,
) -> str:
    """A load balancer for any Service (the hub's or another); returns its DNS name."""
    tags = [
        {"Key": k, "Value": v}
        for k, v in service_tags(
            cluster_name=cluster_name, namespace=namespace, service=service, controller=controller
        ).items()
    ]
    # Kubernetes names its load balancers "a" + 31 hex characters of the Service's uid.
    name = "a" + uuid.uuid4().hex[:31]
    subnets = _subnets(region)
    if kind == "elbv2":
        created = boto3.client("elbv2", region_name=region).create_load_balancer(
            Name=name, Subnets=subnets, Scheme="internet-facing", Type="network", Tags=tags
        )
        return created["LoadBalancers"][0]["DNSName"].lower()
    if kind == "elb":
        created = boto3.client("elb", region_name=region).create_load_balancer(
            LoadBalancerName=name,
            Listeners=[
                {
                    "Protocol": "TCP",
                    "LoadBalancerPort": 80,
                    "InstanceProtocol": "TCP",
                    "InstancePort": 30080,
                }
            ],
            Subnets=subnets,
            Scheme="internet-facing",
            Tags=tags,
        )
        return created["DNSName"].lower()
    raise ValueError(f"kind must be 'elbv2' or 'elb', not {kind!r}")


def create_hub_load_balancer(
    *,
    cluster_name: str,
    hub_namespace: str,
    region: str,
    kind: str = "elbv2",
    controller: str = IN_TREE,
) -> str:
    """The hub's proxy-public load balancer, tagged as its controller would; its DNS name."""
    return create_service_load_balancer(
        cluster_name=cluster_name,
        namespace=hub_namespace,
        service=HUB_SERVICE,
        region=region,
        kind=kind,
        controller=controller,
    )


def create_front_door(*, name: str, tag: str, region: str) -> str:
    """An application load balancer tagged `hub.front-door = tag`, as modules/edge makes the
    hub's front door; its DNS name."""
    created = boto3.client("elbv2", region_name=region).create_load_balancer(
        Name=name,
        Subnets=_subnets(region),
        Type="application",
        Scheme="internet-facing",
        Tags=[{"Key": "hub.front-door", "Value": tag}],
    )
    return created["LoadBalancers"][0]["DNSName"].lower()


def _hub_load_balancers(*, cluster_name: str, hub_namespace: str, region: str):
    """(client, delete-kwargs, DNS name) of each load balancer tagged as the hub's proxy-public."""
    wanted = [
        service_tags(
            cluster_name=cluster_name,
            namespace=hub_namespace,
            service=HUB_SERVICE,
            controller=controller,
        )
        for controller in (IN_TREE, LB_CONTROLLER)
    ]

    def is_hub(tags: list[dict]) -> bool:
        present = {t["Key"]: t["Value"] for t in tags}
        return any(all(present.get(k) == v for k, v in tag_set.items()) for tag_set in wanted)

    elbv2 = boto3.client("elbv2", region_name=region)
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
        arn = lb["LoadBalancerArn"]
        if is_hub(elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]):
            yield elbv2, {"LoadBalancerArn": arn}, lb["DNSName"].lower()
    elb = boto3.client("elb", region_name=region)
    for lb in elb.describe_load_balancers()["LoadBalancerDescriptions"]:
        name = lb["LoadBalancerName"]
        if is_hub(elb.describe_tags(LoadBalancerNames=[name])["TagDescriptions"][0]["Tags"]):
            yield elb, {"LoadBalancerName": name}, lb["DNSName"].lower()


def hub_load_balancer_hostnames(*, cluster_name: str, hub_namespace: str, region: str) -> list[str]:
    """DNS names of the hub's proxy-public load balancers that exist now, sorted."""
    return sorted(
        hostname
        for _, _, hostname in _hub_load_balancers(
            cluster_name=cluster_name, hub_namespace=hub_namespace, region=region
        )
    )


def delete_hub_load_balancers(*, cluster_name: str, hub_namespace: str, region: str) -> list[str]:
    """Delete every load balancer tagged as the hub's proxy-public; their DNS names, sorted."""
    found = list(
        _hub_load_balancers(cluster_name=cluster_name, hub_namespace=hub_namespace, region=region)
    )
    for client, identifier, _ in found:
        client.delete_load_balancer(**identifier)
    return sorted(hostname for _, _, hostname in found)

"""Fixture plugin: a hub whose load balancer the real engine itself makes, in moto's server.

`engine_hub` is a real git repository (in a temporary folder, reached through `HUBOPS_ROOT`) whose
root module is `tests/engine_fixture/` (the AWS provider only: a classic ELB tagged as the
Kubernetes cloud controller tags the hub's, and a `terraform_data` whose creation can be made
slow) and whose one environment, `cae`, is production: supervised, with a domain that the
loopback DNS server points at the load balancer. Its state lives in moto's S3 behind the backend
`invoke backend --env cae` made (KMS key, lock file, identity marker). The first apply is driven
by the engine directly, so every test starts from a hub that is up; the tests then run `invoke`
as an operator does, with `HUBOPS_TOFU_BIN` naming the real binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.git_repo import GitRepo, git_env, init_origin, init_repo
from tests.support.hub_world import record_successful_apply
from tests.support.invoking import invoke_command, run_invoke
from tests.support.moto_server import MOTO_ACCOUNT_ID, TEST_REGION
from tests.support.running import Running

FIXTURE = Path(__file__).resolve().parents[1] / "engine_fixture"
ENV_NAME = "cae"
CLUSTER = "cae"
NAMESPACE = "jupyterhub"
DOMAIN = "hub.example.org"
BUCKET = f"cae-tofu-state-{MOTO_ACCOUNT_ID}"
STATE_KEY = "cae/terraform.tfstate"
LOCK_KEY = f"{STATE_KEY}.tflock"
HUB_ADDRESS = "192.0.2.20"  # TEST-NET-1: only ever data in DNS answers, never contacted
# Each engine command starts the AWS provider (a few seconds) and refreshes against moto.
ENGINE_TIMEOUT = 180

VARS_TEMPLATE = """\
# cae: production, in moto. The facts hubops reads, and the knobs the tests turn.
environment    = "{env}"
aws_region     = "{region}"
aws_account_id = "{account}"
cluster_name   = "{cluster}"
hub_namespace  = "{namespace}"
domain         = "{domain}"
supervised     = {supervised}
"""
BACKEND_TEMPLATE = """\
bucket       = "{bucket}"
key          = "{key}"
region       = "{region}"
encrypt      = true
kms_key_id   = "arn:aws:kms:{region}:{account}:alias/cae-tofu-state"
use_lockfile = true
# moto's server is reached at 127.0.0.1 (AWS_ENDPOINT_URL): no bucket-named host there.
use_path_style = true
"""
PREDECESSOR = "cae-dev"
GITIGNORE = ".hubops/\n.terraform/\n*.tfplan\n"


def vars_text(env_name: str = ENV_NAME, **knobs) -> str:
    text = VARS_TEMPLATE.format(
        env=env_name,
        region=TEST_REGION,
        account=MOTO_ACCOUNT_ID,
        cluster=CLUSTER,
        namespace=NAMESPACE,
        domain=DOMAIN,
        supervised=str(env_name == ENV_NAME).lower(),
    )
    for name, value in knobs.items():
        rendered = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
        text += f"{name} = {rendered}\n"
    return text


def engine_environ(engine, extra: dict | None = None) -> dict[str, str]:
    """os.environ (with the tests' AWS and DNS settings) plus the engine's, for a subprocess."""
    environ = {**os.environ, **engine.environ(), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    # The `aws` CLI preflight asks for lives beside this interpreter in the test virtualenv.
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    for name in [n for n in environ if n.startswith(("FAKE_TOFU", "TF_DATA_DIR", "TF_CLI_ARGS"))]:
        del environ[name]
    environ.update(extra or {})
    return environ


def run_engine(
    engine, root: Path, data_dir: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess:
    """The engine itself, as an operator would run it without hubops (its own data directory)."""
    done = subprocess.run(
        [engine.binary, *args, "-no-color"] if args[0] != "show" else [engine.binary, *args],
        cwd=root,
        env=engine_environ(engine, {"TF_DATA_DIR": str(data_dir)}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=ENGINE_TIMEOUT,
    )
    if check and done.returncode not in (0, 2):
        raise AssertionError(
            f"`{' '.join(args)}` exited {done.returncode}:\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-4000:]}"
        )
    return done


@dataclass
class EngineHub:
    repo: GitRepo
    real_engine: object
    dns: object
    records_dir: Path
    work: Path
    hostname: str = ""
    environ: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.repo.path

    @property
    def vars_file(self) -> Path:
        return self.root / "environments" / ENV_NAME / "terraform.tfvars"

    def process_env(self, root: Path | None = None) -> dict[str, str]:
        return engine_environ(
            self.real_engine,
            {
                **self.environ,
                "HUBOPS_ROOT": str(root or self.root),
                "HUBOPS_RECORDS_DIR": str(self.records_dir),
            },
        )

    # -- running ----------------------------------------------------------------------------

    def invoke(self, *args: str, root: Path | None = None, timeout: float = 600):
        root = root or self.root
        return run_invoke(*args, cwd=root, env=self.process_env(root), timeout=timeout)

    def start_invoke(self, *args: str, root: Path | None = None) -> Running:
        """`invoke ARGS` in the background, its output watched as it comes."""
        root = root or self.root
        return Running(
            subprocess.Popen(
                invoke_command(*args),
                cwd=root,
                env=self.process_env(root),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )

    def engine(self, *args: str, data_dir: str = "direct", check: bool = True):
        """The engine run directly in this checkout, in a data directory of the test's own."""
        return run_engine(self.real_engine, self.root, self.work / data_dir, *args, check=check)

    def apply_directly(self) -> None:
        """The engine's own init and apply of this checkout's fixture (no hubops): a world's
        first build."""
        self.engine("init", "-input=false", f"-backend-config=environments/{ENV_NAME}/backend.hcl")
        self.engine(
            "apply",
            "-input=false",
            "-auto-approve",
            f"-var-file=environments/{ENV_NAME}/terraform.tfvars",
        )

    def commit_vars(self, message: str, **knobs) -> str:
        """Rewrite cae's terraform.tfvars with these knobs set, and commit it."""
        self.vars_file.write_text(vars_text(**knobs))
        commit = self.repo.commit(message)
        self.repo.push()  # production is applied only from main's history
        return commit

    def clone(self, name: str) -> Path:
        """Another checkout of the same commit: another operator's machine."""
        target = self.work / name
        subprocess.run(
            ["git", "clone", "-q", str(self.root), str(target)],
            env=git_env(),
            check=True,
            capture_output=True,
        )
        return target

    # -- reading the world ------------------------------------------------------------------

    def own_plan_json(self) -> dict:
        """What the engine itself plans for the committed files (read-only: no lock taken)."""
        self.engine(
            "init",
            "-input=false",
            "-reconfigure",
            f"-backend-config=environments/{ENV_NAME}/backend.hcl",
            data_dir="own-plan",
        )
        plan = self.work / "own.tfplan"
        self.engine(
            "plan",
            "-input=false",
            "-lock=false",
            f"-var-file=environments/{ENV_NAME}/terraform.tfvars",
            f"-out={plan}",
            data_dir="own-plan",
        )
        return json.loads(self.engine("show", "-json", str(plan), data_dir="own-plan").stdout)

    def output_hostname(self) -> str:
        outputs = json.loads(self.engine("output", "-json").stdout)
        return outputs["hub_load_balancer_hostname"]["value"].lower()

    def aws_hostnames(self) -> list[str]:
        from tests.support import aws_world

        return aws_world.hub_load_balancer_hostnames(
            cluster_name=CLUSTER, hub_namespace=NAMESPACE, region=TEST_REGION
        )

    def records(self) -> list[dict]:
        folder = self.records_dir / ENV_NAME
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]

    def s3_records(self) -> list[dict]:
        import boto3

        s3 = boto3.client("s3", region_name=TEST_REGION)
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"hubops-records/{ENV_NAME}/")
        return [
            json.loads(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read())
            for o in sorted(listed.get("Contents", []), key=lambda o: o["Key"])
        ]

    def lock_object(self) -> dict | None:
        """The engine's S3 lock file (its lock info as JSON), or None when the state is free."""
        import boto3
        from botocore.exceptions import ClientError

        s3 = boto3.client("s3", region_name=TEST_REGION)
        try:
            body = s3.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def point_dns_at(self, hostname: str) -> None:
        self.dns.set_a(hostname, HUB_ADDRESS)
        self.dns.set_cname(DOMAIN, hostname)


def make_fixture_repo(
    path: Path,
    engine,
    fixture: Path = FIXTURE,
    modules: tuple[Path, ...] = (),
    message: str = "A hub's load balancer, made by the engine (tests/engine_fixture)",
) -> GitRepo:
    """The fixture root module (with copies of the project's `modules`, as modules/NAME) and
    environments/cae/, committed with the engine's lock file."""
    repo = init_repo(path)
    for source in sorted(fixture.glob("*.tf")):
        shutil.copy2(source, repo.path / source.name)
    for module in modules:
        shutil.copytree(module, repo.path / "modules" / module.name)
    repo.write(".gitignore", GITIGNORE)
    repo.write(f"environments/{ENV_NAME}/terraform.tfvars", vars_text())
    repo.write(
        f"environments/{ENV_NAME}/backend.hcl",
        BACKEND_TEMPLATE.format(
            bucket=BUCKET, key=STATE_KEY, region=TEST_REGION, account=MOTO_ACCOUNT_ID
        ),
    )
    # Production's predecessor, which has run every shared change first (promotion parity).
    repo.write(f"environments/{PREDECESSOR}/terraform.tfvars", vars_text(PREDECESSOR))
    repo.write(
        f"environments/{PREDECESSOR}/backend.hcl",
        BACKEND_TEMPLATE.format(
            bucket=BUCKET,
            key=f"{PREDECESSOR}/terraform.tfstate",
            region=TEST_REGION,
            account=MOTO_ACCOUNT_ID,
        ),
    )
    # The dependency lock file belongs in the repository (init would otherwise write it into the
    # checkout and make it dirty); made from the mirror's provider, as a maintainer would.
    run_engine(engine, repo.path, path.parent / "lock-init", "init", "-backend=false")
    repo.commit(message)
    init_origin(repo, path.parent / "origin.git")
    repo.push()
    return repo


LOAD_BALANCER = f"{CLUSTER}-hub-1"  # tests/engine_fixture's name for generation "1"


@dataclass
class AppliedHub:
    """What the engine's first apply made, kept to stand the same hub up again after moto's reset
    (a real init and apply per test would cost most of each engine test's time)."""

    state: str  # the state object the apply wrote
    ids: dict[str, str]  # moto's random ids that state names, by role
    data_dir: Path  # the direct data directory, initialised for the backend


def moto_ids() -> dict[str, str]:
    """The ids moto gave the hub's load balancer and the default VPC, by role."""
    import boto3

    [described] = boto3.client("elb", region_name=TEST_REGION).describe_load_balancers(
        LoadBalancerNames=[LOAD_BALANCER]
    )["LoadBalancerDescriptions"]
    [default_group] = boto3.client("ec2", region_name=TEST_REGION).describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [described["VPCId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return {
        "security_group": described["SecurityGroups"][0],
        "subnet": described["Subnets"][0],
        "vpc": described["VPCId"],
        "default_security_group": default_group["GroupId"],
    }


def create_fixture_load_balancer() -> None:
    """The hub's classic ELB as the aws provider makes it for tests/engine_fixture: the same calls
    with the same values (its defaults included), so a refresh finds nothing to change."""
    import boto3

    elb = boto3.client("elb", region_name=TEST_REGION)
    elb.create_load_balancer(
        LoadBalancerName=LOAD_BALANCER,
        AvailabilityZones=[f"{TEST_REGION}a"],
        Listeners=[
            {
                "Protocol": "TCP",
                "LoadBalancerPort": 80,
                "InstanceProtocol": "TCP",
                "InstancePort": 30080,
            }
        ],  # fmt: skip
        Tags=[
            {"Key": "kubernetes.io/service-name", "Value": f"{NAMESPACE}/proxy-public"},
            {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"},
        ],
    )
    elb.configure_health_check(
        LoadBalancerName=LOAD_BALANCER,
        HealthCheck={"Target": "TCP:30080", "Interval": 10, "Timeout": 5,
                     "UnhealthyThreshold": 2, "HealthyThreshold": 2},
    )  # fmt: skip
    elb.modify_load_balancer_attributes(
        LoadBalancerName=LOAD_BALANCER,
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True},
            "ConnectionDraining": {"Enabled": False, "Timeout": 300},
            "ConnectionSettings": {"IdleTimeout": 60},
            "AdditionalAttributes": [
                {"Key": "elb.http.desyncmitigationmode", "Value": "defensive"}
            ],
        },
    )


def read_state() -> str:
    import boto3

    s3 = boto3.client("s3", region_name=TEST_REGION)
    return s3.get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read().decode()


def write_state(text: str) -> None:
    """The state object as the S3 backend writes it: encrypted with the state's KMS key."""
    import boto3

    boto3.client("s3", region_name=TEST_REGION).put_object(
        Bucket=BUCKET,
        Key=STATE_KEY,
        Body=text.encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=f"arn:aws:kms:{TEST_REGION}:{MOTO_ACCOUNT_ID}:alias/cae-tofu-state",
    )


# Built once per run, not once per worker: its tests share one worker (`--dist loadgroup`,
# pyproject.toml; tests/support/tiers.py).
FIXTURE_MARKS = {"engine_hub": pytest.mark.xdist_group("engine-hub")}


@pytest.fixture(scope="session")
def _engine_hub_template(real_engine, tmp_path_factory) -> dict:
    """Per worker: the fixture repository (its lock file made by the engine), and, once the
    first test has applied it, the hub that apply made."""
    base = tmp_path_factory.mktemp("engine-hub-template")
    make_fixture_repo(base / "checkout", real_engine)
    return {"base": base, "applied": None}


@pytest.fixture
def engine_hub(real_engine, aws_env, dns_server, tmp_path, _engine_hub_template) -> EngineHub:
    """The cae hub built by the real engine in moto, its backend made by `invoke backend`.

    The first test of a worker has the engine init and apply it; later ones get the same hub
    again (moto's load balancer made by the provider's calls, the state that apply wrote with
    moto's new ids, the initialised data directory), which the engine then refreshes as its own.
    """
    template = _engine_hub_template["base"]
    work = tmp_path / "engine-hub"
    work.mkdir()
    for name in ("checkout", "origin.git"):
        shutil.copytree(template / name, work / name, symlinks=True)
    repo = GitRepo(work / "checkout")
    repo.git("remote", "set-url", "origin", str(work / "origin.git"))
    hub = EngineHub(
        repo=repo, real_engine=real_engine, dns=dns_server, records_dir=work / "records", work=work
    )
    record_successful_apply(repo.path, hub.records_dir, PREDECESSOR)
    made = hub.invoke("backend", "--env", ENV_NAME)
    assert made.returncode == 0, made.stdout + made.stderr
    applied: AppliedHub | None = _engine_hub_template["applied"]
    if applied is None:
        hub.apply_directly()
        _engine_hub_template["applied"] = AppliedHub(
            state=read_state(), ids=moto_ids(), data_dir=work / "direct"
        )
    else:
        create_fixture_load_balancer()
        state = applied.state
        for role, new in moto_ids().items():
            state = state.replace(applied.ids[role], new)
        write_state(state)
        shutil.copytree(applied.data_dir, work / "direct", symlinks=True)
    hub.hostname = hub.output_hostname()
    assert hub.aws_hostnames() == [hub.hostname]
    hub.point_dns_at(hub.hostname)
    return hub

"""What an operator sees at the edges of a real shell: AWS settings that cannot be used, AWS out
of reach, a domain answering a stale address too, a state whose outputs are all sensitive.

Each test runs `invoke` as an operator does and asserts the exact words printed.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

from tests.support import invoking
from tests.support.hub_world import HUB_ADDRESS

# Variables through which the shell's own credentials would be found before any profile.
_KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def shell(root, environ: dict, *, drop=()) -> dict:
    """The environment of an operator's shell: os.environ with `environ` on top, `drop` unset."""
    env = {**os.environ, **environ, "HUBOPS_ROOT": str(root)}
    for name in drop:
        env.pop(name, None)
    return env


def run(root, env: dict, *args: str):
    return invoking.run_invoke(*args, cwd=root, env=env)


@pytest.fixture
def aws_config(tmp_path, aws_env):
    """write(text) -> the path of an AWS config file with that text (AWS_CONFIG_FILE's value)."""

    def write(text: str):
        path = tmp_path / "aws-config"
        path.write_text(text)
        return path

    return write


# -- AWS settings that cannot be used: one line saying what to fix, never a traceback ---------


def test_a_mistyped_profile_says_which_profile_and_how_to_list_them(project_repo, aws_config):
    config = aws_config("[profile hub-admin]\nregion = us-west-2\n")
    env = shell(
        project_repo.path,
        {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "hub-admn"},
        drop=_KEY_VARIABLES,
    )

    result = run(project_repo.path, env, "whoami", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: AWS profile 'hub-admn' (AWS_PROFILE) is not in your AWS config ({config}): set "
        "AWS_PROFILE to one of `aws configure list-profiles`, or unset it.\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--env", "cae"),
        ("dns-check", "--env", "cae"),
        ("history", "--env", "cae"),
        ("doctor", "--env", "cae"),
        ("backend", "--env", "cae", "--check"),
        ("apply", "--env", "cae", "--yes"),
    ],
    ids=lambda args: args[0],
)
def test_every_task_that_talks_to_aws_names_a_mistyped_profile_without_a_traceback(
    hub_world, aws_config, args
):
    hub = hub_world("cae")
    config = aws_config("[profile hub-admin]\nregion = us-west-2\n")
    env = shell(
        hub.root,
        {**hub.environ, "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "hub-admn"},
        drop=_KEY_VARIABLES,
    )

    result = run(hub.root, env, *args)

    assert "Traceback" not in result.stderr
    assert result.returncode != 0 or args[0] in ("status", "history")
    assert (
        f"AWS profile 'hub-admn' (AWS_PROFILE) is not in your AWS config ({config}): set "
        "AWS_PROFILE to one of `aws configure list-profiles`, or unset it."
    ) in result.stdout + result.stderr


def test_an_unparsable_aws_config_names_the_file(project_repo, aws_config):
    config = aws_config("[profile hub-admin\nregion = us-west-2\n")
    env = shell(project_repo.path, {"AWS_CONFIG_FILE": str(config)}, drop=_KEY_VARIABLES)

    result = run(project_repo.path, env, "whoami", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: Your AWS config file {config} cannot be parsed: fix its syntax (sections are "
        "`[profile NAME]` followed by `key = value` lines), or point AWS_CONFIG_FILE at another "
        "file.\n"
    )


def test_a_role_profile_whose_source_profile_is_missing_says_which(project_repo, aws_config):
    config = aws_config(
        "[profile hub-admin]\n"
        "role_arn = arn:aws:iam::123456789012:role/hub-admin\n"
        "source_profile = base\n"
    )
    env = shell(
        project_repo.path,
        {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "hub-admin"},
        drop=_KEY_VARIABLES,
    )

    result = run(project_repo.path, env, "whoami", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        'error: Your AWS config is not usable: The source_profile "base" referenced in the '
        f"profile \"hub-admin\" does not exist. Fix profile 'hub-admin' in {config} (`aws "
        "configure list-profiles` lists the profiles), or choose another with AWS_PROFILE.\n"
    )


def test_an_sso_profile_without_a_login_says_to_log_in(project_repo, aws_config, tmp_path):
    config = aws_config(
        "[profile hub-sso]\n"
        "sso_session = cae\n"
        "sso_account_id = 123456789012\n"
        "sso_role_name = HubAdmin\n"
        "region = us-west-2\n"
        "[sso-session cae]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-west-2\n"
    )
    env = shell(
        project_repo.path,
        # An empty home: no SSO token cached, as on a machine where nobody logged in.
        {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "hub-sso", "HOME": str(tmp_path)},
        drop=_KEY_VARIABLES,
    )

    result = run(project_repo.path, env, "whoami", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        "error: AWS sts failed: the SSO login of AWS profile 'hub-sso' is missing or has "
        "expired. Run `aws sso login --profile hub-sso` and try again.\n"
    )
    assert "network" not in result.stderr


# -- dns-check: "could not look" is not "routing is wrong" --------------------------------------


def test_dns_check_without_credentials_exits_4_not_3_and_suggests_no_kubectl(hub_world):
    hub = hub_world("cae-dev")
    env = shell(hub.root, hub.environ, drop=_KEY_VARIABLES)

    result = run(hub.root, env, "dns-check", "--env", "cae-dev")

    assert result.returncode == 4
    assert result.stdout == ""
    assert result.stderr == (
        "error: could not look at the routing of cae-dev: AWS describe_load_balancers failed: "
        "no usable AWS credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
        "AWS_PROFILE) for the environment's account and try again.\n"
        "Nothing was concluded about DNS: fix the AWS access (`invoke whoami --env cae-dev`), "
        "then run dns-check again.\n"
    )


def test_dns_check_with_aws_out_of_reach_exits_4(hub_world):
    hub = hub_world("cae-testing")
    env = shell(hub.root, {**hub.environ, "AWS_ENDPOINT_URL": "https://127.0.0.1:9"})

    result = run(hub.root, env, "dns-check", "--env", "cae-testing")

    assert result.returncode == 4
    assert (
        "\nerror: could not look at the routing of cae-testing: AWS describe_load_balancers "
        'failed: Could not connect to the endpoint URL: "https://127.0.0.1:9/" (after retrying '
        "for 1s). Check your network and AWS settings (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and "
        "try again.\n"
    ) in result.stderr
    assert "kubectl" not in result.stdout + result.stderr


def test_status_says_the_load_balancer_is_not_known_when_aws_could_not_be_asked(hub_world):
    hub = hub_world("cae")
    env = shell(hub.root, hub.environ, drop=_KEY_VARIABLES)

    result = run(hub.root, env, "status", "--env", "cae")

    assert "Load balancer: none found" not in result.stdout
    assert (
        "Load balancer: not known, AWS could not be asked (AWS describe_load_balancers failed: "
        "no usable AWS credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
        "AWS_PROFILE) for the environment's account and try again.)\n"
    ) in result.stdout
    assert (
        "Routing: NOT VERIFIED (AWS could not be asked for the load balancer: "
        "`invoke whoami --env cae` checks your access)\n"
    ) in result.stdout


# -- routing that only partly matches is changed ----------------------------------------------


def test_dns_answering_the_load_balancer_and_a_stale_address_is_not_ok(hub_world):
    hub = hub_world("cae")
    hub.dns.clear()
    hub.dns.set_a(hub.hostname, HUB_ADDRESS)
    hub.dns.set_a("hub.example.org", HUB_ADDRESS, "192.0.2.99")

    result = hub.invoke("dns-check", "--env", "cae")

    assert result.returncode == 3
    assert result.stdout == (
        "Routing changed or could not be verified for cae:\n"
        f"  - DNS for hub.example.org answers {HUB_ADDRESS}, 192.0.2.99, of which 192.0.2.99 is "
        f"not an address of the load balancer {hub.hostname} ({HUB_ADDRESS}): the users sent "
        "there cannot reach the hub\n"
        "Set this DNS record by hand so that users can log in:\n"
        f"  hub.example.org CNAME {hub.hostname}  (was {HUB_ADDRESS}, 192.0.2.99)\n"
    )


# -- the tofu-output cross-check is never skipped without a word --------------------------------


def test_a_state_whose_outputs_are_all_sensitive_is_not_taken_for_a_new_environment(hub_world):
    hub = hub_world("cae")
    hub.dns.set_cname("hub.example.org", "stale-lb.example.net")
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname, "admin_password": "s3cret!!"},
            "sensitive_outputs": ["hub_load_balancer_hostname", "admin_password"],
        }
    )

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert "has never been applied" not in result.stdout
    assert (
        "tofu output cross-check: skipped (the output hub_load_balancer_hostname is sensitive, "
        "so tofu does not show it)\n"
    ) in result.stdout
    assert result.stderr.endswith(
        "error: cae is supervised and its routing baseline cannot be verified, so the apply does "
        "not start:\n"
        f"  - DNS for hub.example.org points at stale-lb.example.net, not at the load balancer "
        f"{hub.hostname}\n"
        "Check with `invoke status --env cae` and `dig hub.example.org CNAME`, fix the DNS record "
        "or the load balancer first, then apply again.\n"
    )
    assert not any(call[0] == "apply" for call in hub.fake_tofu.calls())


def test_status_says_why_the_cross_check_was_skipped_when_the_output_is_missing(hub_world):
    hub = hub_world("cae")
    hub.fake_tofu.scenario({"outputs": {"cluster_name": "cae"}})
    hub.invoke("plan", "--env", "cae")

    result = hub.invoke("status", "--env", "cae")

    assert result.returncode == 0, result.stderr
    assert (
        "tofu output cross-check: skipped (the state has no output hub_load_balancer_hostname "
        "(it has cluster_name); apply the root module's outputs.tf to add it)\n"
    ) in result.stdout


# -- doctor stops at the first sign that AWS is out of reach ------------------------------------


def test_doctor_with_aws_out_of_reach_waits_once_and_skips_the_backend(project_repo, aws_env):
    env = shell(project_repo.path, {"AWS_ENDPOINT_URL": "https://127.0.0.1:9"})

    result = run(project_repo.path, env, "doctor", "--env", "cae-dev")

    assert result.returncode == 1
    assert (
        "State backend of cae-dev\n"
        "  skipped  AWS could not be asked who you are (above): fix that first\n"
    ) in result.stdout
    assert "AWS get_caller_identity: EndpointConnectionError" in result.stderr
    # The retry lines are the identity check's only: no backend call waited out the bound.
    retried = {line.split(":")[0] for line in result.stderr.splitlines() if "retrying" in line}
    assert retried == {"AWS get_caller_identity"}


# -- settings that parse but are not finite, and tfvars of the wrong type ------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "HUBOPS_DNS_TIMEOUT",
            "nan",
            "error: HUBOPS_DNS_TIMEOUT='nan' is malformed: give a number of seconds greater "
            "than 0, or unset it to use the default (3).\n",
        ),
        (
            "HUBOPS_DNS_TIMEOUT",
            "inf",
            "error: HUBOPS_DNS_TIMEOUT='inf' is malformed: give a number of seconds greater "
            "than 0, or unset it to use the default (3).\n",
        ),
        (
            "HUBOPS_DNS_BACKOFF",
            "inf",
            "error: HUBOPS_DNS_BACKOFF='inf' is malformed: give a number of seconds greater "
            "than 0, or unset it to use the default (0.5).\n",
        ),
    ],
)
def test_a_dns_setting_that_is_not_finite_is_refused_at_once(hub_world, variable, value, expected):
    hub = hub_world("cae-testing")
    env = shell(hub.root, {**hub.environ, variable: value})

    result = run(hub.root, env, "dns-check", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stderr == expected


def test_an_aws_retry_bound_of_nan_is_refused(project_repo, aws_env):
    env = shell(project_repo.path, {"HUBOPS_AWS_RETRY_SECONDS": "nan"})

    result = run(project_repo.path, env, "whoami", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        "error: HUBOPS_AWS_RETRY_SECONDS='nan' is malformed: give a number of seconds, 0 or "
        "more, or unset it to use the default (60).\n"
    )


def test_a_domain_that_is_not_a_string_names_the_file(project_repo):
    path = project_repo.path / "environments" / "cae-dev" / "terraform.tfvars"
    text = path.read_text()
    path.write_text(re.sub(r'(?m)^domain\s*=\s*"hub-dev.example.org"$', "domain = 42", text))

    result = run(project_repo.path, shell(project_repo.path, {}), "status", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: {path}: `domain` must be a string (the hub's DNS name, e.g. "
        '"hub.example.org") or null, not 42.\n'
    )


# -- a hung engine has a bound -----------------------------------------------------------------


def test_a_hung_tofu_is_stopped_after_hubops_tofu_timeout(hub_world, fake_tofu, tmp_path):
    hub = hub_world("cae-testing")
    hung = tmp_path / "hung-tofu"
    fake = str(fake_tofu.bin_dir / "tofu")
    # Answers `version` like the fake, then hangs on anything else, as a stuck engine does. Like
    # OpenTofu (Go's signal.Notify), it takes SIGINT even when started with it ignored, as a
    # background job of a script is.
    hung.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, sys, time\n"
        f"if sys.argv[1:2] == ['version']: os.execv({fake!r}, [{fake!r}, *sys.argv[1:]])\n"
        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "time.sleep(600)\n"
    )
    hung.chmod(0o755)
    env = shell(hub.root, {**hub.environ, "HUBOPS_TOFU_BIN": str(hung), "HUBOPS_TOFU_TIMEOUT": "2"})

    result = run(hub.root, env, "plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert (
        "hubops: tofu has run for 2s, the bound of HUBOPS_TOFU_TIMEOUT; passing it an interrupt "
        "once and waiting up to 300s for it to stop cleanly.\n"
    ) in result.stderr
    assert result.stderr.endswith(
        "error: `tofu init -input=false -reconfigure "
        "-backend-config=environments/cae-testing/backend.hcl` did not finish in time\n"
        "tofu did not finish within 2s (HUBOPS_TOFU_TIMEOUT) and was asked to stop, and "
        "stopped. Find out what it was waiting for (a state lock, a provider, the network, the "
        "cluster), then run again; raise HUBOPS_TOFU_TIMEOUT if the work really takes longer.\n"
    )


def test_a_tofu_timeout_that_is_not_finite_is_refused(hub_world):
    hub = hub_world("cae-testing")
    env = shell(hub.root, {**hub.environ, "HUBOPS_TOFU_TIMEOUT": "inf"})

    result = run(hub.root, env, "plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stderr.endswith(
        "error: HUBOPS_TOFU_TIMEOUT='inf' is malformed: give a number of seconds greater than 0, "
        "or unset it to use the default (7200).\n"
    )


# -- a closed pipe, a missing flag value, missing tools -----------------------------------------


def test_a_task_piped_into_a_reader_that_went_away_ends_without_a_traceback(project_repo):
    import subprocess

    process = subprocess.Popen(
        invoking.invoke_command("doctor"),
        cwd=project_repo.path,
        env=shell(project_repo.path, {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    with process.stderr:
        stderr = process.stderr.read()
    process.wait(timeout=120)

    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("status",),
            "error: --env is needed: name the environment, one of cae-testing, cae-dev, cae "
            "(e.g. `--env cae-testing`).\n",
        ),
        (
            ("plan", "--env"),
            "error: --env was given without a name: name the environment, one of cae-testing, "
            "cae-dev, cae (e.g. `--env cae-testing`).\n",
        ),
        (
            ("doctor", "--env"),
            "error: --env was given without a name: name the environment, one of cae-testing, "
            "cae-dev, cae (e.g. `--env cae-testing`).\n",
        ),
        (
            ("destroy", "--env"),
            "error: --env was given without a name: name the environment, one of cae-testing, "
            "cae-dev, cae (e.g. `--env cae-testing`).\n",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_a_missing_env_is_said_in_the_projects_words(project_repo, args, expected):
    result = run(project_repo.path, shell(project_repo.path, {}), *args)

    assert result.returncode == 1
    assert result.stderr == expected
    assert "needed value" not in result.stderr


def test_plan_without_tofu_and_aws_names_both(project_repo, tmp_path):
    env = shell(project_repo.path, {"PATH": str(tmp_path / "empty-bin")})
    env.pop("HUBOPS_TOFU_BIN", None)

    result = run(project_repo.path, env, "plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stderr == (
        "error: No `tofu` on PATH: install OpenTofu (https://opentofu.org/docs/intro/install/) "
        "or set HUBOPS_TOFU_BIN to its path. No `aws` on PATH: install the AWS CLI: "
        "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html.\n"
    )


# -- credentials from a profile are redacted wherever the AWS_* variables are ---------------------

PROFILE_KEY_ID = "AKIAHUBOPSPROFILE0001"
PROFILE_SECRET = "profile/Secret+Key/FromTheCredentialsFile0123456"
PROFILE_TOKEN = "IQoJb3JpZ2luX2VjEProfileSessionTokenHubops0123456789"


def test_credentials_from_a_profile_never_reach_output_records_or_history(hub_world, tmp_path):
    import boto3

    from hubops.adapters.environment_files import load_environment

    hub = hub_world("cae-testing")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[hub]\n"
        f"aws_access_key_id = {PROFILE_KEY_ID}\n"
        f"aws_secret_access_key = {PROFILE_SECRET}\n"
        f"aws_session_token = {PROFILE_TOKEN}\n"
    )
    env = shell(
        hub.root,
        {**hub.environ, "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_PROFILE": "hub"},
        drop=_KEY_VARIABLES,
    )
    # An engine quoting the credentials it was given, on stdout (a plan's attribute) and on
    # stderr (a provider's error), as a misconfigured provider or a debug log would.
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
            "plan": {
                "resource_changes": [
                    {
                        "address": "aws_ssm_parameter.note",
                        "actions": ["update"],
                        "before": {"id": PROFILE_SECRET},
                        "after": {"id": f"{PROFILE_TOKEN}-next"},
                    }
                ]
            },
            "apply": {
                "fail": {
                    "summary": "configuring the AWS provider",
                    "detail": f"rejected secret_key={PROFILE_SECRET} token={PROFILE_TOKEN}",
                }
            },
        }
    )

    result = run(hub.root, env, "apply", "--env", "cae-testing", "--yes")
    history = run(hub.root, env, "history", "--env", "cae-testing", "--json")

    assert result.returncode == 1
    assert "│ rejected secret_key=[redacted] token=[redacted]\n" in result.stderr
    assert '~ id = "[redacted]" -> "[redacted]-next"' in result.stdout
    s3 = boto3.client("s3", region_name=hub.region)
    bucket = load_environment(hub.root, "cae-testing").backend.bucket
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="hubops-records/")["Contents"]
    ]
    shared = [s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys]
    local = [p.read_text() for p in (hub.records_dir / "cae-testing").glob("*.json")]
    assert len(shared) == len(local) == 1
    assert "[redacted]" in shared[0]
    for text in (result.stdout, result.stderr, history.stdout, history.stderr, *shared, *local):
        for secret in (PROFILE_KEY_ID, PROFILE_SECRET, PROFILE_TOKEN):
            assert secret not in text

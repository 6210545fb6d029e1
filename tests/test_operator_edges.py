"""What an operator sees at the edges of a real shell: AWS settings that cannot be used, AWS out
of reach, a domain answering a stale address too, a state whose outputs are all sensitive.

Each test runs `invoke` as an operator does and asserts the exact words printed.
"""

from __future__ import annotations

import os

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

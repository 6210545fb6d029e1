"""`invoke health`, and the health step of production's apply, against a real JupyterHub with a
real Dask Gateway behind a front door that plays the ALB (tests/support/live_hub.py), DNS on
loopback answering the hub's name with the front door's two addresses, the token in moto's
Secrets Manager. Each fault is made on that world; each gives its named finding and exit 5."""

from __future__ import annotations

import json

import pytest

TOKEN_SECRET = "hubops/cae/health-token"


@pytest.fixture
def cae(hub_world, live_hub, project_repo, dns_server):
    """Production's hub, whose public name is the live hub's: DNS sends the name through the
    load balancer's name to the front door's addresses, and the state's health_check output
    names the hub's Cognito-like login and the token's secret."""
    import boto3

    vars_file = project_repo.path / "environments" / "cae" / "terraform.tfvars"
    text = vars_file.read_text()
    assert 'domain           = "hub.example.org"' in text
    project_repo.write(
        "environments/cae/terraform.tfvars",
        text.replace('"hub.example.org"', f'"{live_hub.domain}"'),
    )
    project_repo.commit("cae: the live hub's name")
    project_repo.push()  # production is applied only from main
    hub = hub_world("cae")
    dns_server.set_a(hub.hostname, *live_hub.addresses)
    dns_server.set_cname(live_hub.domain, hub.hostname)
    secret = boto3.client("secretsmanager", region_name=hub.region).create_secret(
        Name=TOKEN_SECRET, SecretString=live_hub.service_token
    )
    hub.outputs = {
        "hub_load_balancer_hostname": hub.hostname,
        "health_check": {
            "hostname": live_hub.domain,
            "user": live_hub.health_user,
            "journey": True,
            "token_secret_id": secret["ARN"],
            "login": {
                "start_path": "/hub/oauth_login",
                "authorize_url": live_hub.authorize_url,
                "client_id": live_hub.client_id,
                "redirect_uri": live_hub.callback_url,
            },
        },
    }
    hub.fake_tofu.scenario({"outputs": hub.outputs})
    hub.environ.update(
        SSL_CERT_FILE=str(live_hub.ca_bundle),
        HUBOPS_HEALTH_HTTPS_PORT=str(live_hub.https_port),
        HUBOPS_HEALTH_HTTP_PORT=str(live_hub.http_port),
    )
    yield hub
    assert not live_hub.servers(), "a health check left the user's server running"
    assert not live_hub.gateway_clusters(), "a health check left a Dask cluster running"


def steps(output: str) -> dict[tuple[str, str], str]:
    """{(step, address): "ok" or "FAIL"} from the check's lines."""
    found = {}
    for line in output.splitlines():
        if line.startswith(("ok   ", "FAIL ")):
            mark, rest = line.split(" ", 1)
            name_address = rest.strip().split(":", 1)[0]
            name, _, address = name_address.partition(" [")
            found[(name, address.rstrip("]"))] = mark
    return found


QUICK = ("tls", "hub", "hsts", "http", "login", "cookies")


def test_a_healthy_hub_passes_every_quick_step_on_both_addresses(cae, live_hub):
    result = cae.invoke("health", "--env", "cae", "--quick")

    assert result.returncode == 0, result.stdout + result.stderr
    found = steps(result.stdout)
    for address in live_hub.addresses:
        assert [found[(name, address)] for name in QUICK] == ["ok"] * len(QUICK)
    assert f"resolve: {live_hub.domain} -> 127.0.0.2, 127.0.0.3" in result.stdout
    assert "the certificate is valid until" in result.stdout
    assert "Strict-Transport-Security: max-age=31536000; includeSubDomains" in result.stdout
    # /hub/login's _xsrf (Secure by the tree's hub.extraConfig) and the OAuth state cookie.
    assert "cookies [127.0.0.2]: 2 cookie(s) set over https, each Secure" in result.stdout
    assert result.stdout.rstrip().endswith(
        f"Users can log in to cae: every step passed through {live_hub.domain}."
    )


@pytest.mark.parametrize(
    ("fault", "step", "said"),
    [
        ("expired_certificate", "tls", "certificate has expired"),
        ("other_name_certificate", "tls", "Hostname mismatch"),
        ("self_signed_certificate", "tls", "self-signed certificate"),
        ("certificate_expiring", "tls", "the certificate expires"),
        ("health_failing", "hub", "HTTP 503"),
        ("without_hsts", "hsts", "no Strict-Transport-Security header"),
        ("http_serving", "http", "plain http is served"),
        ("login_redirecting", "login", "redirect_uri=https://evil.cae.test/hub/oauth_callback"),
        ("cookies_without_secure", "cookies", "cookies set over https without Secure"),
    ],
)
def test_each_fault_gives_its_named_finding_and_exit_5(cae, live_hub, fault, step, said):
    faults = {
        "expired_certificate": live_hub.expired_certificate,
        "other_name_certificate": live_hub.certificate_for,
        "self_signed_certificate": live_hub.self_signed_certificate,
        "certificate_expiring": lambda: live_hub.certificate_expiring_in(5),
        "health_failing": live_hub.health_failing,
        "without_hsts": live_hub.without_hsts,
        "http_serving": live_hub.http_serving,
        "login_redirecting": live_hub.login_redirecting_to,
        "cookies_without_secure": live_hub.cookies_without_secure,
    }
    with faults[fault]():
        result = cae.invoke("health", "--env", "cae", "--quick")

    assert result.returncode == 5, result.stdout + result.stderr
    assert steps(result.stdout)[(step, "127.0.0.2")] == "FAIL"
    assert said in result.stdout
    assert f"Users may not be able to log in to cae: {step} failed" in result.stdout


def test_one_dead_address_of_two_is_found_and_the_other_passes(cae, live_hub):
    with live_hub.address_down("127.0.0.3"):
        result = cae.invoke("health", "--env", "cae", "--quick")

    assert result.returncode == 5
    found = steps(result.stdout)
    assert found[("tls", "127.0.0.3")] == "FAIL"
    assert [found[(name, "127.0.0.2")] for name in QUICK] == ["ok"] * len(QUICK)
    assert "127.0.0.3" in result.stdout and "Connection refused" in result.stdout


def test_the_journey_starts_a_server_and_a_dask_worker_and_leaves_nothing_running(cae, live_hub):
    result = cae.invoke("health", "--env", "cae", timeout=600)

    assert result.returncode == 0, result.stdout + result.stderr
    found = steps(result.stdout)
    journey = ["server", "server reached", "dask cluster", "dask worker", "dask shutdown"]
    assert [found[(name, "127.0.0.2")] for name in [*journey, "server stop"]] == ["ok"] * 6
    assert live_hub.service_token not in result.stdout + result.stderr


def test_dask_gateway_down_fails_the_journey_and_the_server_is_still_stopped(cae, live_hub):
    with live_hub.gateway_stopped():
        result = cae.invoke("health", "--env", "cae", timeout=600)

    assert result.returncode == 5
    found = steps(result.stdout)
    assert found[("dask cluster", "127.0.0.2")] == "FAIL"
    assert found[("server stop", "127.0.0.2")] == "ok"


def test_a_server_that_never_starts_is_bounded_and_stopped(cae, live_hub):
    with live_hub.server_never_starting():
        result = cae.invoke("health", "--env", "cae", "--server-timeout", "5", timeout=600)

    assert result.returncode == 5
    assert "hubops-health's server did not become ready" in result.stdout
    assert "expected: ready within 5 s" in result.stdout
    assert steps(result.stdout)[("server stop", "127.0.0.2")] == "ok"


def test_productions_apply_checks_health_records_it_and_history_and_status_show_it(cae, live_hub):
    cae.replace_node_group()  # an apply that changes something, the load balancer kept
    scenario = json.loads(cae.fake_tofu.scenario_path.read_text())
    cae.fake_tofu.scenario({**scenario, "outputs": cae.outputs})

    with live_hub.login_redirecting_to():
        result = cae.invoke("apply", "--env", "cae", "--yes", timeout=600)

    assert result.returncode == 5, result.stdout + result.stderr
    assert "Routing unchanged" in result.stdout
    assert result.stderr.rstrip().endswith(
        f"error: Users may not be able to log in to cae: login failed through {live_hub.domain}. "
        "The failed steps are above; `invoke health --env cae` checks again once they are fixed."
    )
    [record] = [r for r in cae.records() if r.get("operation") == "apply"][-1:]
    assert record["exit_status"] == 5
    failed = [step["name"] for step in record["health"]["steps"] if not step["ok"]]
    assert set(failed) == {"login"}
    assert live_hub.service_token not in json.dumps(record)

    history = cae.invoke("history", "--env", "cae")
    assert "(HEALTH FAILED: login)" in history.stdout
    status = cae.invoke("status", "--env", "cae")
    assert "Last health check (the apply of" in status.stdout
    assert "FAIL login [127.0.0.2]" in status.stdout

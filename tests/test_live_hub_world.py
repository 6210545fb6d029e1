"""The live-hub world (tests/support/live_hub.py) does what the health check relies on: each
capability and each fault, seen by plain HTTP and TLS requests from the standard library."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

import pytest

from tests.support.live_hub import HSTS, Part, find_proxy, wait_until


def tls_context(world) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(world.ca_bundle))


def connect(world, address: str, secure: bool = True, context=None) -> http.client.HTTPConnection:
    """A connection to one of the name's addresses, TLS with SNI and verification for the name."""
    port = world.https_port if secure else world.http_port
    connection = http.client.HTTPConnection(address, port, timeout=30)
    raw = socket.create_connection((address, port), timeout=30)
    connection.sock = (context or tls_context(world)).wrap_socket(
        raw, server_hostname=world.domain
    ) if secure else raw  # fmt: skip
    return connection


def request(world, method, path, *, address=None, secure=True, body=None, token=None,
            scheme="token"):  # fmt: skip
    """(status, headers as (name, value) pairs, body) of one request through the front door."""
    connection = connect(world, address or world.addresses[0], secure)
    port = world.https_port if secure else world.http_port
    headers = {"Host": f"{world.domain}:{port}"}
    if token:
        headers["Authorization"] = f"{scheme} {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header(headers, name):
    return next((v for n, v in headers if n.lower() == name.lower()), None)


def cookies(headers) -> list[str]:
    return [v for n, v in headers if n.lower() == "set-cookie"]


def peer_certificate(world, address=None) -> dict:
    connection = connect(world, address or world.addresses[0])
    try:
        return connection.sock.getpeercert()
    finally:
        connection.close()


def days_left(certificate: dict) -> float:
    expires = ssl.cert_time_to_seconds(certificate["notAfter"])
    return (expires - time.time()) / 86400


def verification_error(world) -> ssl.SSLCertVerificationError:
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        connect(world, world.addresses[0]).close()
    return caught.value


def test_each_address_answers_health_over_verified_tls_with_hsts(live_hub):
    for address in live_hub.addresses:
        status, headers, _ = request(live_hub, "GET", "/hub/health", address=address)
        assert status == 200
        assert header(headers, "Strict-Transport-Security") == HSTS
        assert days_left(peer_certificate(live_hub, address)) > 80


def test_plain_http_redirects_permanently_to_https(live_hub):
    for address in live_hub.addresses:
        status, headers, _ = request(live_hub, "GET", "/hub/health", address=address, secure=False)
        assert status == 301
        assert header(headers, "Location") == f"{live_hub.https_url}/hub/health"


def test_login_redirects_to_the_identity_provider_and_its_cookie_is_secure(live_hub):
    status, headers, _ = request(live_hub, "GET", "/hub/oauth_login")
    assert status == 302
    location = urllib.parse.urlsplit(header(headers, "Location"))
    query = dict(urllib.parse.parse_qsl(location.query))
    assert location._replace(query="").geturl() == live_hub.authorize_url
    assert query["client_id"] == live_hub.client_id
    assert live_hub.callback_url == f"https://{live_hub.domain}/hub/oauth_callback"
    assert query["redirect_uri"] == live_hub.callback_url
    assert cookies(headers)
    assert all("; Secure" in cookie for cookie in cookies(headers)), cookies(headers)


def _running_clusters(world) -> list[str]:
    def status(name):
        path = f"/services/dask-gateway/api/v1/clusters/{name}"
        body = request(world, "GET", path, token=world.service_token, scheme="jupyterhub")[2]
        return json.loads(body)["status"]

    return [name for name in world.gateway_clusters() if status(name) not in ("STOPPED", "FAILED")]


# The journey, Dask Gateway stopped and a server that never starts are proven through the
# health check itself (tests/test_health_live.py).


def test_the_service_token_reaches_no_other_user(live_hub):
    status, _, _ = request(
        live_hub, "POST", "/hub/api/users/someone-else/server", token=live_hub.service_token
    )
    assert status in (403, 404)


# --- faults


def test_an_expired_certificate_fails_verification_and_is_restored(live_hub):
    with live_hub.expired_certificate():
        assert "expired" in verification_error(live_hub).verify_message
    assert request(live_hub, "GET", "/hub/health")[0] == 200


def test_a_certificate_for_another_name_fails_verification(live_hub):
    with live_hub.certificate_for("other.cae.test"):
        assert "Hostname mismatch" in verification_error(live_hub).verify_message


def test_a_self_signed_certificate_fails_verification(live_hub):
    with live_hub.self_signed_certificate():
        assert "self-signed" in verification_error(live_hub).verify_message


def test_a_certificate_expiring_soon_verifies_and_shows_its_days(live_hub):
    with live_hub.certificate_expiring_in(days=5):
        assert 4.9 < days_left(peer_certificate(live_hub)) < 5.1
        certificate = peer_certificate(live_hub)
        assert datetime.datetime.fromtimestamp(
            ssl.cert_time_to_seconds(certificate["notAfter"]), datetime.UTC
        ) > datetime.datetime.now(datetime.UTC)


def test_a_dead_address_refuses_and_the_other_serves(live_hub):
    with live_hub.address_down("127.0.0.3"):
        for port in (live_hub.https_port, live_hub.http_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.3", port), timeout=5).close()
        assert request(live_hub, "GET", "/hub/health", address="127.0.0.2")[0] == 200
    assert request(live_hub, "GET", "/hub/health", address="127.0.0.3")[0] == 200


def test_health_answering_503(live_hub):
    with live_hub.health_failing():
        for address in live_hub.addresses:
            assert request(live_hub, "GET", "/hub/health", address=address)[0] == 503
    assert request(live_hub, "GET", "/hub/health")[0] == 200


def test_a_login_redirecting_to_another_callback(live_hub):
    with live_hub.login_redirecting_to("https://evil.cae.test/hub/oauth_callback"):
        _, headers, _ = request(live_hub, "GET", "/hub/oauth_login")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(header(headers, "Location")).query))
    assert query["redirect_uri"] == "https://evil.cae.test/hub/oauth_callback"
    assert query["client_id"] == live_hub.client_id


def test_a_proxy_forwarding_http_makes_the_real_hub_drop_secure_from_its_cookie(live_hub):
    with live_hub.cookies_without_secure():
        status, headers, _ = request(live_hub, "GET", "/hub/oauth_login")
    assert status == 302
    assert cookies(headers)
    assert not any("secure" in cookie.lower() for cookie in cookies(headers)), cookies(headers)


def test_no_hsts(live_hub):
    with live_hub.without_hsts():
        _, headers, _ = request(live_hub, "GET", "/hub/health")
    assert header(headers, "Strict-Transport-Security") is None


def test_the_http_port_serving_instead_of_redirecting(live_hub):
    with live_hub.http_serving():
        status, headers, _ = request(live_hub, "GET", "/hub/health", secure=False)
    assert status == 200
    assert header(headers, "Strict-Transport-Security") is None


# The dask_gateway client as a user's code would run it: the REST API through the front door
# (the name resolved to the first address, the test CA trusted), the scheduler over TLS through
# the gateway's TCP proxy, which routes by SNI (the cluster's name).
CLIENT_SCRIPT = """
import socket, sys
from dask_gateway import Gateway
from dask_gateway.auth import JupyterHubAuth

domain, address, url, proxy, token = sys.argv[1:]
resolve = socket.getaddrinfo
socket.getaddrinfo = lambda host, *a, **k: resolve(address if host == domain else host, *a, **k)
with Gateway(url, proxy_address=proxy, auth=JupyterHubAuth(api_token=token)) as gateway:
    cluster = gateway.new_cluster()
    try:
        cluster.scale(1)
        with cluster.get_client() as client:
            client.wait_for_workers(1, timeout=60)
            print("sum", client.submit(sum, [1, 2, 3]).result())
    finally:
        cluster.shutdown()
"""


def test_a_dask_gateway_client_computes_through_the_front_door(live_hub):
    url = f"{live_hub.https_url}/services/dask-gateway"
    arguments = [live_hub.domain, live_hub.addresses[0], url, live_hub.gateway_address]
    done = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, *arguments, live_hub.service_token],
        env={**os.environ, "SSL_CERT_FILE": str(live_hub.ca_bundle)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sum 6" in done.stdout
    assert not _running_clusters(live_hub)


# --- start-up failures name what did not come up


def test_a_part_that_exits_is_named_with_its_log_tail(tmp_path):
    part = Part("proxy", [sys.executable, "-c", "print('no such flag: --x'); exit(2)"], tmp_path,
                dict(os.environ))  # fmt: skip
    part.start()
    with pytest.raises(RuntimeError) as failed:
        wait_until("proxy", lambda: False, [part], timeout=30)
    assert "the live hub's proxy did not come up (proxy exited)" in str(failed.value)
    assert "no such flag: --x" in str(failed.value)


def test_without_configurable_http_proxy_the_fixture_says_to_run_nox(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="run the tests with `nox -s tests`"):
        find_proxy()

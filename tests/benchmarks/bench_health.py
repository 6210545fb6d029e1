"""Benchmark (on demand, never in the suite): the health check's own time on a healthy loopback hub.

    python3 scripts/benchmark.py health

The quick checks (TLS, the hub, HSTS, http to https, the login, cookies) per address, and the
journey (a server started and reached, a Dask cluster with one worker, both stopped), against the
live hub of tests/support/live_hub.py through its front door. Targets: the quick checks under 2 s
per address, the journey under 60 s.
"""

import statistics
import time

from hubops.facts.health import HealthTarget, Login
from hubops.flows.health import HealthRequest, check_health

RUNS = 5


def test_health_check_speed(live_hub, dns_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(live_hub.ca_bundle))
    monkeypatch.setenv("HUBOPS_HEALTH_HTTPS_PORT", str(live_hub.https_port))
    monkeypatch.setenv("HUBOPS_HEALTH_HTTP_PORT", str(live_hub.http_port))
    dns_server.set_a(live_hub.domain, *live_hub.addresses)
    login = Login(
        "/hub/oauth_login", live_hub.authorize_url, live_hub.client_id, live_hub.callback_url
    )
    target = HealthTarget(live_hub.domain, live_hub.health_user, True, None, login)

    def timed(request: HealthRequest, token=None) -> float:
        start = time.perf_counter()
        result = check_health(target, None, request, lambda line: None, token)
        assert result.healthy, result.lines("bench")
        return time.perf_counter() - start

    quick = statistics.median(timed(HealthRequest(journey=False)) for _ in range(RUNS))
    journey = timed(HealthRequest(journey=True), lambda: live_hub.service_token)
    per_address = quick / len(live_hub.addresses)
    print(f"\nquick checks, per address     {per_address * 1000:8.0f} ms   target: under 2 s")
    print(f"the journey (quick included)   {journey:8.1f} s    target: under 60 s")

"""The health check's rules, by value: what each answer must be for users to log in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubops.facts.health import (
    HealthResult,
    HealthTarget,
    Login,
    Step,
    certificate_finding,
    hsts_problem,
    https_redirect_problem,
    insecure_cookies,
    login_form_problem,
    login_redirect_problem,
)
from hubops.facts.run_record import ApplyRecord, read_record
from hubops.facts.typed_json import ShapeError, from_json

LOGIN = Login(
    start_path="/hub/oauth_login",
    authorize_url="https://cae.auth.us-west-2.amazoncognito.com/oauth2/authorize",
    client_id="abc123",
    redirect_uri="https://hub.example.org/hub/oauth_callback",
)
NOW = datetime(2026, 12, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("not_after", "ok", "said"),
    [
        (
            datetime(2027, 3, 1, tzinfo=UTC),
            True,
            "the certificate is valid until 2027-03-01 00:00 UTC (83 days)",
        ),
        (
            datetime(2026, 12, 13, tzinfo=UTC),
            False,
            "the certificate expires 2026-12-13 00:00 UTC, in 5 days",
        ),
    ],
    ids=["in-date", "ending-within-21-days"],
)
def test_a_certificate_needs_21_days_left(not_after, ok, said):
    assert certificate_finding(not_after, NOW) == (ok, said)


@pytest.mark.parametrize(
    ("status", "location", "problem"),
    [
        (301, "https://hub.example.org/hub/health", None),
        (308, "https://hub.example.org/hub/health", None),
        (
            302,
            "https://hub.example.org/hub/health",
            "HTTP 302 to https://hub.example.org/hub/health",
        ),
        (200, None, "HTTP 200"),
        (301, "http://hub.example.org/hub/health", "HTTP 301 to http://hub.example.org/hub/health"),
        (301, "https://evil.example/hub/health", "HTTP 301 to https://evil.example/hub/health"),
    ],
)
def test_plain_http_must_be_sent_on_permanently_to_the_same_name_over_https(
    status, location, problem
):
    assert https_redirect_problem(status, location, "hub.example.org") == problem


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("max-age=31536000; includeSubDomains", None),
        ('max-age="600"', None),
        (None, "no Strict-Transport-Security header"),
        ("max-age=0", "Strict-Transport-Security: max-age=0 (max-age must be above 0)"),
        ("includeSubDomains", "Strict-Transport-Security: includeSubDomains (no max-age)"),
    ],
)
def test_hsts_must_hold_browsers_to_https(header, problem):
    assert hsts_problem(header) == problem


def _authorize(**query) -> str:
    from urllib.parse import urlencode

    base = {"response_type": "code", "client_id": "abc123", "redirect_uri": LOGIN.redirect_uri}
    return f"{LOGIN.authorize_url}?{urlencode({**base, **query})}"


@pytest.mark.parametrize(
    ("status", "location", "problem"),
    [
        (302, _authorize(), None),
        (302, _authorize(client_id="other"), "client_id=other"),
        (
            302,
            _authorize(redirect_uri="https://hub-dev.example.org/hub/oauth_callback"),
            "redirect_uri=https://hub-dev.example.org/hub/oauth_callback",
        ),
        (
            302,
            "https://evil.example/oauth2/authorize?client_id=abc123",
            "a redirect to https://evil.example/oauth2/authorize",
        ),
        (200, None, "HTTP 200 without a Location"),
    ],
    ids=["right", "another-client", "another-callback", "another-provider", "no-redirect"],
)
def test_the_login_must_go_to_this_environments_cognito_with_its_client_and_callback(
    status, location, problem
):
    assert login_redirect_problem(status, location, LOGIN) == problem


def test_every_cookie_set_over_https_must_be_secure():
    headers = [
        "jupyterhub-session-id=abc; HttpOnly; Path=/; Secure",
        "_xsrf=2|x|y|z; Path=/hub/",
        "oauthenticator-state=zz; HttpOnly; Path=/",
    ]

    assert insecure_cookies(headers) == ["_xsrf", "oauthenticator-state"]
    assert insecure_cookies([]) == []


def test_the_form_login_needs_a_form_with_a_username():
    form = b'<form action="/hub/login" method="post"><input name="username"></form>'

    assert login_form_problem(200, form) is None
    assert login_form_problem(503, b"") == "HTTP 503"
    assert login_form_problem(200, b"<p>hi</p>") == (
        "HTTP 200 without a login form (no <form> with a username field)"
    )


def test_the_trees_output_is_read_typed_and_a_wrong_shape_names_its_field():
    value = {
        "hostname": "hub.example.org",
        "user": "hubops-health",
        "journey": True,
        "token_secret_id": "arn:aws:secretsmanager:us-west-2:111122223333:secret:hubops-health",
        "login": {
            "start_path": "/hub/oauth_login",
            "authorize_url": LOGIN.authorize_url,
            "client_id": "abc123",
            "redirect_uri": LOGIN.redirect_uri,
        },
    }

    assert from_json(HealthTarget, value).login == LOGIN
    with pytest.raises(ShapeError, match='has journey="yes", where true or false belongs'):
        from_json(HealthTarget, {**value, "journey": "yes"})


def test_a_result_is_healthy_only_with_steps_and_none_failed():
    good = Step("tls", True, "verified", "127.0.0.2", 0.01)
    bad = Step("hub", False, "/hub/health answered HTTP 503", "127.0.0.3", 0.02, "HTTP 200")

    assert not HealthResult("hub.example.org").healthy
    assert HealthResult("hub.example.org", [good]).healthy
    unhealthy = HealthResult("hub.example.org", [good, bad])
    assert unhealthy.headline("cae") == (
        "Users may not be able to log in to cae: hub failed through hub.example.org."
    )
    assert bad.lines() == [
        "FAIL hub [127.0.0.3]: /hub/health answered HTTP 503 (0.02 s)",
        "       expected: HTTP 200",
    ]


def test_an_apply_record_keeps_its_health_and_one_without_stores_no_field():
    step = Step("hub", False, "/hub/health answered HTTP 503", "127.0.0.3", 0.02, "HTTP 200")
    record = ApplyRecord(
        environment="cae",
        commit="0" * 40,
        started_at="2026-12-08T00:00:00Z",
        health=HealthResult("hub.example.org", [step]),
    )

    assert read_record(record.to_json()).health == record.health
    without = ApplyRecord(environment="cae", commit="0" * 40, started_at="2026-12-08T00:00:00Z")
    assert "health" not in without.to_json()


def test_the_job_summary_shows_each_step_with_its_time_and_what_failed():
    from types import SimpleNamespace

    from hubops.cli.summaries import health

    result = HealthResult(
        "hub.example.org",
        [
            Step("tls", True, "verified for hub.example.org", "127.0.0.2", 0.02),
            Step(
                "login",
                False,
                "the login does not go where it must",
                "127.0.0.2",
                0.01,
                expected="a redirect to Cognito",
                got="redirect_uri=https://evil.example/cb",
                todo="check the authenticator",
            ),
        ],
    )

    assert health(SimpleNamespace(name="cae"), result).splitlines() == [
        "### Health of cae",
        "",
        "Users may not be able to log in to cae: login failed through hub.example.org.",
        "",
        "| | step | address | time | found |",
        "|---|---|---|---|---|",
        "| ok | `tls` | `127.0.0.2` | 0.02 s | `verified for hub.example.org` |",
        "| **failed** | `login` | `127.0.0.2` | 0.01 s | `the login does not go where it must; "
        "expected a redirect to Cognito; got redirect_uri=https://evil.example/cb; to do: check "
        "the authenticator` |",
    ]

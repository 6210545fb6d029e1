"""What DNS answers, against a real DNS server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hubops.adapters.dns import nameservers, resolve
from hubops.facts.dns_answer import DnsAnswer, DnsStatus
from hubops.facts.errors import HubopsError

LB = "a1b2c3-1234567890.us-west-2.elb.amazonaws.com"
OLD_LB = "a9f8e7-0987654321.us-west-2.elb.amazonaws.com"


def test_follows_the_cname_chain_to_the_load_balancers_addresses(dns_server):
    dns_server.set_cname("hub.example.org", "hub-alias.example.org")
    dns_server.set_cname("hub-alias.example.org", LB)
    dns_server.set_a(LB, "192.0.2.10", "192.0.2.11")

    answer = resolve("hub.example.org")

    assert answer == DnsAnswer(
        status=DnsStatus.OK,
        cname_chain=["hub-alias.example.org", LB],
        addresses=["192.0.2.10", "192.0.2.11"],
        detail=(
            f"domain=hub.example.org status=ok cname_chain=hub-alias.example.org,{LB} "
            f"addresses=192.0.2.10,192.0.2.11 nameservers={dns_server.address} attempts=1"
        ),
    )
    assert answer.ok


def test_asks_for_the_target_when_the_answer_stops_at_a_cname(dns_server):
    dns_server.follow_cnames = False
    dns_server.set_cname("hub.example.org", LB)
    dns_server.set_a(LB, "192.0.2.10")

    answer = resolve("hub.example.org")

    assert (answer.status, answer.cname_chain, answer.addresses) == (
        DnsStatus.OK,
        [LB],
        ["192.0.2.10"],
    )
    assert dns_server.questions == [
        ("hub.example.org", "A"),
        (LB, "A"),
        ("hub.example.org", "AAAA"),
        (LB, "AAAA"),
    ]


def test_collects_ipv4_and_ipv6_addresses_of_the_final_name(dns_server):
    dns_server.set_cname("hub.example.org", LB)
    dns_server.set_a(LB, "192.0.2.10")
    dns_server.set_aaaa(LB, "2001:db8::10")

    answer = resolve("hub.example.org")

    assert answer.addresses == ["192.0.2.10", "2001:db8::10"]


def test_names_are_reported_in_lower_case_without_the_trailing_dot(dns_server):
    dns_server.set_a("hub.example.org", "192.0.2.10")

    answer = resolve("Hub.Example.ORG.")

    assert (answer.status, answer.detail.split()[0]) == (DnsStatus.OK, "domain=hub.example.org")


def test_nxdomain_is_final_at_once_without_retrying(dns_server):
    answer = resolve("missing.example.org")

    assert (answer.status, answer.ok, answer.cname_chain, answer.addresses) == (
        DnsStatus.NXDOMAIN,
        False,
        [],
        [],
    )
    assert answer.detail == (
        f"domain=missing.example.org status=nxdomain nameservers={dns_server.address} attempts=1"
    )
    assert dns_server.questions == [("missing.example.org", "A"), ("missing.example.org", "AAAA")]


def test_a_cname_to_a_vanished_load_balancer_is_nxdomain_naming_the_old_target(dns_server):
    dns_server.set_cname("hub.example.org", OLD_LB)

    answer = resolve("hub.example.org")

    assert (answer.status, answer.cname_chain) == (DnsStatus.NXDOMAIN, [OLD_LB])
    assert answer.detail == (
        f"domain=hub.example.org status=nxdomain cname_chain={OLD_LB} "
        f"nameservers={dns_server.address} attempts=1"
    )


def test_a_name_without_addresses_is_no_answer(dns_server):
    dns_server.set_cname("hub.example.org", LB)
    dns_server.set_a(LB)

    answer = resolve("hub.example.org")

    assert (answer.status, answer.cname_chain, answer.addresses) == (
        DnsStatus.NO_ANSWER,
        [LB],
        [],
    )


def test_servfail_is_retried_then_reported(dns_server):
    dns_server.fail("hub.example.org", "servfail")

    answer = resolve("hub.example.org")

    assert (answer.status, answer.ok) == (DnsStatus.SERVFAIL, False)
    assert answer.detail == (
        f"domain=hub.example.org status=servfail nameservers={dns_server.address} attempts=2"
    )
    # Two attempts (HUBOPS_DNS_ATTEMPTS=2) for A; AAAA is not asked once A has failed.
    assert dns_server.questions == [("hub.example.org", "A"), ("hub.example.org", "A")]


def test_a_servfail_that_passes_is_retried_into_an_answer(dns_server):
    dns_server.set_cname("hub.example.org", LB)
    dns_server.set_a(LB, "192.0.2.10")
    dns_server.fail(LB, "servfail", times=1)

    answer = resolve("hub.example.org")

    assert (answer.status, answer.cname_chain, answer.addresses) == (
        DnsStatus.OK,
        [LB],
        ["192.0.2.10"],
    )
    assert answer.detail.endswith("attempts=2")


def test_timeout_is_reported_after_bounded_attempts_with_its_diagnostic(dns_server):
    dns_server.set_cname("hub.example.org", LB)
    dns_server.fail("hub.example.org", "timeout")

    answer = resolve("hub.example.org")

    assert answer == DnsAnswer(
        status=DnsStatus.TIMEOUT,
        detail=f"domain=hub.example.org status=timeout nameservers={dns_server.address} attempts=2",
    )
    assert dns_server.queries == ["hub.example.org", "hub.example.org"]


def test_attempts_and_timeout_come_from_the_environment(dns_server, monkeypatch):
    monkeypatch.setenv("HUBOPS_DNS_ATTEMPTS", "3")
    monkeypatch.setenv("HUBOPS_DNS_TIMEOUT", "0.1")
    dns_server.fail("hub.example.org", "timeout")

    answer = resolve("hub.example.org")

    assert answer.detail.endswith("attempts=3")
    assert dns_server.queries == ["hub.example.org"] * 3


def test_the_settings_reach_a_subprocess_through_the_fixtures_env(dns_server):
    dns_server.set_a("hub.example.org", "192.0.2.10")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBOPS_DNS_")}
    env.update(dns_server.env)

    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hubops.adapters.dns import resolve; print(resolve('hub.example.org').detail)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert shown == (
        f"domain=hub.example.org status=ok addresses=192.0.2.10 "
        f"nameservers={dns_server.address} attempts=1\n"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1", [("127.0.0.1", 53)]),
        (" 127.0.0.1:5353 , [::1]:53,::1 ", [("127.0.0.1", 5353), ("::1", 53), ("::1", 53)]),
        ("[2001:db8::1]", [("2001:db8::1", 53)]),
        ("", None),
    ],
)
def test_nameservers_setting_accepts_hosts_with_optional_ports(monkeypatch, value, expected):
    monkeypatch.setenv("HUBOPS_DNS_NAMESERVERS", value)

    assert nameservers() == expected


def test_no_nameservers_setting_means_the_system_resolver(monkeypatch):
    monkeypatch.delenv("HUBOPS_DNS_NAMESERVERS", raising=False)

    assert nameservers() is None


@pytest.mark.parametrize(
    ("value", "entry", "reason"),
    [
        ("dns.example.org", "dns.example.org", "it is not an IP address"),
        ("127.0.0.1:dns", "127.0.0.1:dns", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:70000", "127.0.0.1:70000", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:", "127.0.0.1:", "the port is empty"),
        ("127.0.0.1,,10.0.0.1", "", "it is not an IP address"),
        ("[::1:53", "[::1:53", "an IPv6 address with a port is written [::1]:53"),
        ("[127.0.0.1]:53", "[127.0.0.1]:53", "only IPv6 addresses go in brackets"),
    ],
)
def test_a_malformed_nameservers_setting_says_how_to_fix_it(monkeypatch, value, entry, reason):
    monkeypatch.setenv("HUBOPS_DNS_NAMESERVERS", value)

    with pytest.raises(HubopsError) as raised:
        resolve("hub.example.org")

    assert str(raised.value) == (
        f"HUBOPS_DNS_NAMESERVERS={value!r} is malformed: {entry!r} is not usable ({reason}). "
        "Give comma-separated IP addresses with optional ports, e.g. 127.0.0.1:5353,[::1]:53, "
        "or unset it to use the system resolver."
    )


def test_a_malformed_timeout_setting_says_how_to_fix_it(dns_server, monkeypatch):
    monkeypatch.setenv("HUBOPS_DNS_TIMEOUT", "soon")

    with pytest.raises(HubopsError) as raised:
        resolve("hub.example.org")

    assert str(raised.value) == (
        "HUBOPS_DNS_TIMEOUT='soon' is malformed: give a number of seconds greater than 0, or "
        "unset it to use the default (3)."
    )
    assert dns_server.queries == []


def test_an_invalid_domain_name_is_refused_before_asking(dns_server):
    with pytest.raises(HubopsError) as raised:
        resolve("hub..example.org")

    assert str(raised.value) == (
        "'hub..example.org' is not a valid DNS name: fix the `domain` in the environment's "
        "terraform.tfvars."
    )
    assert dns_server.queries == []

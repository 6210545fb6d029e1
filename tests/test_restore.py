"""After exit 3: `invoke dns-check --wait` asks the zone's authoritative servers (past the caching
resolver everything else asks) until the record points at the load balancer, then closes the
routing incident; `status`, `history` and the next apply see the incident until it is closed."""

from __future__ import annotations

import json

from hubops.facts.outcome import Outcome
from hubops.facts.run_record import KINDS, RunRecord
from tests.support.dns_server import free_port

WAIT = ("--wait", "--timeout", "5", "--interval", "1")


def described(record_file) -> str:
    record = json.loads(record_file.read_text())
    return (
        f"the apply of {record['commit'][:12]} at {record['started_at']} exited 3 "
        f"(record {record_file.name})"
    )


def test_dns_check_wait_asks_the_authoritative_servers_past_the_cache_and_closes_the_incident(
    incident,
):
    hub, zone, failed, new = incident
    zone.set_cname("hub.example.org", new, ttl=300)  # the operator sets the record by hand

    # The caching resolver still serves the old record: a plain dns-check sees only that.
    cached = hub.invoke("dns-check", "--env", "cae")
    assert cached.returncode == 3
    assert f"DNS for hub.example.org points at {hub.hostname}, not at the load balancer" in (
        cached.stdout
    )

    result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 0, result.stderr
    records = sorted((hub.records_dir / "cae").glob("*.json"))
    restore_file = next(p for p in records if p != failed)
    bucket_key = f"hubops-records/cae/{restore_file.name}"
    assert result.stdout == (
        f"Open routing incident of cae: {described(failed)}.\n"
        "Asking the authoritative servers of example.org (ns1.example.org at 127.0.0.1) every "
        "1 s, for up to 5 s, until hub.example.org points at the load balancer of cae ...\n"
        f"Routing restored: the authoritative servers of example.org point hub.example.org at "
        f"{new}, the load balancer of cae.\n"
        "Resolvers that cached the old answer may serve it for up to 300 s more (the record's "
        "TTL at the authoritative servers).\n"
        f"Routing incident closed: {described(failed)}.\n"
        f"Run record: {restore_file}\n"
        f"Run record: s3://{state_bucket(hub)}/{bucket_key}\n"
    )
    restore = json.loads(restore_file.read_text())
    assert restore["operation"] == "restore"
    assert restore["closes_incident"] == failed.name
    assert restore["exit_status"] == 0
    assert restore["ttl"] == 300
    assert restore["authoritative"]["zone"] == "example.org"
    assert restore["authoritative"]["answers"][0]["cname"] == new
    # It asked the authoritative server itself (without recursion), not the cache, for the record.
    assert ("hub.example.org", "A") in zone.server.zone.questions
    assert hub.invoke("dns-check", "--env", "cae").returncode == 3  # the cache is still stale


def state_bucket(hub) -> str:
    from hubops.adapters.environment_files import load_environment

    return load_environment(hub.root, hub.env_name).backend.bucket


def test_status_and_history_show_the_open_incident_until_it_is_closed(incident):
    hub, zone, failed, new = incident
    record = json.loads(failed.read_text())
    open_text = (
        f"Open routing incident: {described(failed)}; the record to set: "
        f"{record['verdict']['dns_record']}\n"
        "  Once DNS points at the load balancer, `invoke dns-check --env cae --wait` closes it.\n"
    )

    status = hub.invoke("status", "--env", "cae")
    history = hub.invoke("history", "--env", "cae")
    document = json.loads(hub.invoke("status", "--env", "cae", "--json").stdout)
    [run] = json.loads(hub.invoke("history", "--env", "cae", "--json").stdout)

    assert open_text in status.stdout
    assert history.stdout.startswith(open_text)
    assert "  (incident open)  [local+s3]\n" in history.stdout
    assert document["open_incident"]["name"] == failed.name
    assert run["incident_state"] == "open"

    zone.set_cname("hub.example.org", new, ttl=300)
    assert hub.invoke("dns-check", "--env", "cae", *WAIT).returncode == 0

    status = hub.invoke("status", "--env", "cae")
    lines = hub.invoke("history", "--env", "cae").stdout.splitlines()
    runs = json.loads(hub.invoke("history", "--env", "cae", "--json").stdout)
    assert "Open routing incident" not in status.stdout
    assert (
        json.loads(hub.invoke("status", "--env", "cae", "--json").stdout)["open_incident"] is None
    )
    heading, *lines = lines
    assert heading.startswith("Runs of cae, newest first")
    assert len(lines) == 2
    assert lines[0].endswith(
        "  restore: routing restored at the authoritative servers (TTL 300 s), closes incident "
        f"{failed.name}  [local+s3]"
    )
    assert lines[1].endswith("  (incident closed)  [local+s3]")
    assert [run.get("incident_state") for run in runs] == [None, "closed"]


def test_dns_check_wait_times_out_with_exit_3_and_says_what_it_last_saw(incident):
    hub, zone, failed, new = incident  # nobody set the record

    result = hub.invoke(
        "dns-check", "--env", "cae", "--wait", "--timeout", "0.3", "--interval", "1"
    )

    assert result.returncode == 3
    seen = (
        f"  - ns1.example.org at 127.0.0.1: hub.example.org CNAME {hub.hostname} (TTL 300)\n"
        f"  - ns1.example.org at 127.0.0.1: DNS for hub.example.org points at {hub.hostname}, "
        f"not at the load balancer {new}\n"
    )
    assert result.stdout.endswith(" ...\nNot yet:\n" + seen)
    assert result.stderr.startswith("error: timed out after ")
    assert result.stderr.endswith(
        " s: the authoritative servers of example.org do not all point hub.example.org at the "
        "load balancer yet. Last seen:\n"
        + seen
        + "The routing incident stays open: check the record you set, then run "
        "`invoke dns-check --env cae --wait` again.\n"
    )
    assert sorted((hub.records_dir / "cae").glob("*.json")) == [failed]  # no restore recorded


def test_dns_check_wait_exits_4_when_no_authoritative_server_answers(incident):
    hub, zone, failed, new = incident
    zone.set_cname("hub.example.org", new)
    hub.environ["HUBOPS_DNS_AUTHORITATIVE_PORT"] = str(free_port())  # nothing listens there

    result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 4
    assert result.stderr == (
        "error: could not look at the routing of cae: none of the authoritative servers of "
        "example.org answered:\n"
        "  - ns1.example.org at 127.0.0.1: no answer (timeout)\n"
        "Nothing was concluded about DNS: the routing incident, if any, stays open. Fix what is "
        "named above, then run `invoke dns-check --env cae --wait` again.\n"
    )
    assert sorted((hub.records_dir / "cae").glob("*.json")) == [failed]


def test_dns_check_wait_exits_4_when_the_zone_name_servers_cannot_be_found(incident):
    hub, zone, failed, new = incident
    hub.environ["HUBOPS_DNS_NAMESERVERS"] = f"127.0.0.1:{free_port()}"  # a resolver that is gone

    result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 4
    assert result.stderr.endswith(
        "error: could not look at the authoritative DNS of hub.example.org: Could not find the "
        "authoritative name servers of hub.example.org: the resolver "
        f"({hub.environ['HUBOPS_DNS_NAMESERVERS']}) gave no answer for the NS records of "
        "hub.example.org (timeout).\n"
        "Nothing was concluded about DNS: check the resolver (HUBOPS_DNS_NAMESERVERS), then run "
        "dns-check --wait again.\n"
    )


def test_dns_check_wait_closes_the_incident_when_some_records_cannot_be_read(incident):
    hub, zone, failed, new = incident
    broken = hub.records_dir / "cae" / "99991231T000000.000Z-broken.json"
    broken.write_text("{not json")
    zone.set_cname("hub.example.org", new, ttl=300)

    result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"warning: Run record {broken} is not valid JSON (")
    assert f"Open routing incident of cae: {described(failed)}.\n" in result.stdout
    [restore_file] = [
        p for p in (hub.records_dir / "cae").glob("*.json") if p not in (failed, broken)
    ]
    restore = json.loads(restore_file.read_text())
    assert restore["closes_incident"] == failed.name
    assert restore["records_problems"][0].startswith(f"Run record {broken} is not valid JSON")


def test_dns_check_wait_when_the_bucket_records_cannot_be_read_still_closes_what_is_open(
    incident,
):
    import boto3

    hub, zone, failed, new = incident
    failed.unlink()  # the incident's record is only in the bucket, which this machine cannot read
    s3 = boto3.client("s3", region_name="us-west-2")
    bucket = state_bucket(hub)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "NoReading",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/hubops-records/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    zone.set_cname("hub.example.org", new, ttl=300)

    result = hub.invoke("dns-check", "--env", "cae", *WAIT)

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"warning: Could not read the run records in s3://{bucket}/hubops-records/cae/: "
    )
    assert result.stdout.startswith(
        "Open routing incident of cae: not known (the run records could not all be read); the "
        "restore record will close whatever is open.\n"
    )
    [restore_file] = (hub.records_dir / "cae").glob("*.json")
    restore = json.loads(restore_file.read_text())
    assert restore["operation"] == "restore" and restore["closes_incident"] is None


def test_a_cae_apply_whose_baseline_verifies_closes_the_incident_in_its_own_record(incident):
    hub, zone, failed, new = incident
    zone.set_cname("hub.example.org", new)
    zone.expire()  # the caches' old answer has lived out its TTL: the baseline sees the new one

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Routing incident closed (the baseline verifies): {described(failed)}.\n" in (
        result.stdout
    )
    [closing] = [
        r for r in hub.records() if r["started_at"] != json.loads(failed.read_text())["started_at"]
    ]
    assert closing["closes_incident"] == failed.name
    assert (
        json.loads(hub.invoke("status", "--env", "cae", "--json").stdout)["open_incident"] is None
    )
    _, *lines = hub.invoke("history", "--env", "cae").stdout.splitlines()  # a heading, the runs
    assert lines[0].endswith("  (closes an incident)  [local+s3]")
    assert lines[1].endswith("  (incident closed)  [local+s3]")


def test_a_cae_apply_that_cannot_verify_its_baseline_refuses_and_names_the_open_incident(
    incident,
):
    hub, zone, failed, new = incident  # DNS still points at the old load balancer

    result = hub.invoke("apply", "--env", "cae", "--yes")

    record = json.loads(failed.read_text())
    assert result.returncode == 1
    assert result.stderr.endswith(
        ", fix the DNS record or the load balancer first, then apply again.\n"
        f"Open routing incident: {described(failed)}; the record to set: "
        f"{record['verdict']['dns_record']}. `invoke dns-check --env cae --wait` closes it once "
        "DNS points at the load balancer.\n"
    )
    assert sorted((hub.records_dir / "cae").glob("*.json")) == [failed]


def test_dns_check_wait_waits_for_every_authoritative_server(
    hub_world, authoritative_dns, monkeypatch
):
    from hubops.adapters import authoritative
    from hubops.adapters.environment_files import load_environment
    from hubops.flows.restore import wait_for_routing

    hub = hub_world("cae")
    authoritative_dns.set_cname("hub.example.org", "old-hub.example.net", ttl=900)
    second = authoritative_dns.add_second_server()
    authoritative_dns.server.set_cname("hub.example.org", hub.hostname, ttl=120)
    for name, value in hub.environ.items():
        monkeypatch.setenv(name, value)
    env = load_environment(hub.root, "cae")
    zone = authoritative.find_zone("hub.example.org")
    said, sleeps = [], []

    def sleep(seconds):  # between the first look and the second, ns2 gets the new record too
        sleeps.append(seconds)
        second.set_cname("hub.example.org", hub.hostname, ttl=120)

    result = wait_for_routing(env, zone, timeout=5, interval=0.1, say=said.append, sleep=sleep)

    assert zone.describe() == "ns1.example.org at 127.0.0.1, ns2.example.org at 127.0.0.2"
    assert result.restored and sleeps == [0.1]
    assert said == [
        "Not yet:\n"
        f"  - ns1.example.org at 127.0.0.1: hub.example.org CNAME {hub.hostname} (TTL 120)\n"
        "  - ns2.example.org at 127.0.0.2: hub.example.org CNAME old-hub.example.net (TTL 900)\n"
        "  - ns2.example.org at 127.0.0.2: DNS for hub.example.org points at old-hub.example.net, "
        f"not at the load balancer {hub.hostname}"
    ]
    assert result.ttl == 900  # the old record's TTL, seen during the wait, bounds the caches


def test_dns_check_wait_needs_a_domain_and_sane_seconds(hub_world):
    hub = hub_world("cae-testing")

    no_domain = hub.invoke("dns-check", "--env", "cae-testing", "--wait")
    bad_timeout = hub.invoke("dns-check", "--env", "cae-testing", "--wait", "--timeout", "nan")
    bad_interval = hub.invoke("dns-check", "--env", "cae-testing", "--wait", "--interval", "0.0001")
    too_long = hub.invoke("dns-check", "--env", "cae-testing", "--wait", "--timeout", "1e9")
    no_wait = hub.invoke("dns-check", "--env", "cae-testing", "--timeout", "5")

    assert no_domain.returncode == 1
    assert no_domain.stderr == (
        "error: cae-testing has no domain, so there is no DNS record to wait for: its hub is "
        "reached at the load balancer's address (`invoke status --env cae-testing`).\n"
    )
    assert bad_timeout.stderr == (
        "error: --timeout takes a number of seconds from 0 to 14400, not 'nan'.\n"
    )
    assert too_long.stderr == (
        "error: --timeout takes a number of seconds from 0 to 14400, not '1e9'.\n"
    )
    assert bad_interval.stderr == (
        "error: --interval takes a number of seconds 1 or more, not '0.0001'.\n"
    )
    assert no_wait.returncode == 1
    assert no_wait.stderr == "error: --timeout and --interval go with --wait.\n"


def run(name: str, **fields) -> RunRecord:
    """A record as `history` gives it: newest first, its name in its location."""
    kind = KINDS[fields.pop("operation", "apply")]
    facts = {"supervised": True, "location": f"/records/cae/{name}", "source": "local+s3", **fields}
    return kind("cae", "0123456789abcdef", "2026-11-26T07:00:00.000Z", **facts)


def test_the_open_incident_is_the_newest_exit_3_with_nothing_verifying_the_routing_after_it():
    from hubops.facts.incidents import closed_by, open_incident

    changed = Outcome.ROUTING_CHANGED
    first = run("1.json", outcome=changed)
    restored = run("2.json", operation="restore", closes_incident="1.json", outcome=Outcome.OK)
    reopened = run("3.json", outcome=changed, closes_incident=None)  # an apply after the restore
    closing_then_failing = run("4.json", outcome=changed, closes_incident="3.json")
    unsupervised = run("5.json", outcome=changed, supervised=False)

    assert open_incident([first]).name == "1.json"
    assert open_incident([restored, first]) is None
    assert open_incident([reopened, restored, first]).name == "3.json"
    # An apply whose baseline verified closes the incident before it and may open its own.
    assert open_incident([closing_then_failing, reopened, restored, first]).name == "4.json"
    assert open_incident([unsupervised]) is None
    # A closing record on this machine alone (anyone's to write) closes nothing; an alarm does.
    local_restore = run("6.json", operation="restore", outcome=Outcome.OK, source="local")
    assert open_incident([local_restore, first]).name == "1.json"
    assert open_incident([run("7.json", outcome=changed, source="local")]).name == "7.json"
    assert closed_by([closing_then_failing, reopened, restored, first]) == {
        "1.json": "2.json",
        "3.json": "4.json",
        "4.json": None,
    }


def test_dns_check_wait_with_nothing_wrong_says_so_and_records_nothing(
    hub_world, authoritative_dns
):
    hub = hub_world("cae")
    authoritative_dns.set_cname("hub.example.org", hub.hostname, ttl=300)

    result = hub.invoke(
        "dns-check", "--env", "cae", "--wait", "--timeout", "0.5", "--interval", "1"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Asking the authoritative servers of example.org (ns1.example.org at 127.0.0.1) once "
        "(--timeout 0.5 s is shorter than one --interval of 1 s) until hub.example.org points at "
        "the load balancer of cae ...\n"
        "Routing holds: the authoritative servers of example.org point hub.example.org at "
        f"{hub.hostname}, the load balancer of cae. No routing incident was open, so nothing was "
        "restored and nothing is recorded.\n"
    )
    assert not list((hub.records_dir / "cae").glob("*.json"))

"""Records stored by an earlier hubops are read back equal, and written back byte for byte.

The files in tests/stored_records/ were written by hubops at commit e7feb6b (`records.stored_text`
of an apply that exited 3 with every field set, an interrupted destroy, and a restore), before the
record's types were reworked. They are the promise of the record JSON: never regenerate them with
the current code; a change that needs them changed is a change of the stored format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubops.adapters.records import parse_record, stored_text
from hubops.facts.dns_answer import DnsStatus
from hubops.facts.errors import RecordError
from hubops.facts.run_record import ApplyRecord, DestroyRecord, RestoreRecord

STORED = Path(__file__).resolve().parent / "stored_records"
KINDS = ("apply", "destroy", "restore")


def read(kind: str):
    path = STORED / f"{kind}.json"
    return path.read_text(), parse_record(path.read_bytes(), str(path), "local")


@pytest.mark.parametrize("kind", KINDS)
def test_a_stored_record_is_written_back_byte_for_byte(kind):
    text, record = read(kind)

    assert record.operation == kind
    assert stored_text(record) == text


@pytest.mark.parametrize("kind", KINDS)
def test_a_stored_record_read_again_from_what_it_writes_is_equal(kind):
    _, record = read(kind)

    again = parse_record(stored_text(record), record.location, "local")

    assert again == record
    assert json.loads(stored_text(again)) == json.loads(stored_text(record))


def test_stored_dns_statuses_are_read_as_the_enum():
    _, applied = read("apply")
    _, restored = read("restore")

    assert applied.before.dns.status is DnsStatus.OK
    assert applied.after.dns.status is DnsStatus.NXDOMAIN
    assert [answer.status for answer in restored.authoritative.answers] == [
        DnsStatus.OK,
        DnsStatus.OK,
        DnsStatus.UNREACHABLE,
        DnsStatus.NOT_AUTHORITATIVE,
    ]


def test_a_field_a_newer_hubops_wrote_is_kept():
    _, applied = read("apply")

    assert applied.extra == {"approved_by": "a reviewer (a field a newer hubops wrote)"}


def test_a_dns_status_no_hubops_writes_is_refused_naming_the_field():
    text, _ = read("apply")
    data = json.loads(text)
    data["after"]["dns"]["status"] = "maybe"

    with pytest.raises(RecordError) as raised:
        parse_record(json.dumps(data), "/r/x.json", "local")

    assert str(raised.value) == (
        'Run record /r/x.json has after.dns.status="maybe", where one of "ok", "nxdomain", '
        '"no-answer", "servfail", "timeout", "error", "unreachable", "not-authoritative" '
        "belongs: skipped."
    )


def test_the_stored_operation_chooses_the_record_kind():
    kinds = {kind: type(read(kind)[1]) for kind in KINDS}

    assert kinds == {"apply": ApplyRecord, "destroy": DestroyRecord, "restore": RestoreRecord}


def test_a_record_without_an_operation_is_an_apply_and_one_no_hubops_writes_is_refused():
    text, _ = read("destroy")
    data = json.loads(text)
    del data["operation"]  # records written before destroys were recorded have none

    assert type(parse_record(json.dumps(data), "/r/old.json", "local")) is ApplyRecord
    with pytest.raises(RecordError) as raised:
        parse_record(json.dumps({**data, "operation": "rollback"}), "/r/x.json", "local")
    assert str(raised.value) == (
        'Run record /r/x.json has operation="rollback", where one of "apply", "destroy", '
        '"restore" belongs: skipped.'
    )


def test_another_kinds_field_with_a_value_is_kept_not_dropped():
    text, _ = read("destroy")
    data = {**json.loads(text), "ttl": 300}  # a restore's field, in a destroy's record

    record = parse_record(json.dumps(data), "/r/x.json", "local")

    assert record.extra == {"ttl": 300}
    assert json.loads(stored_text(record)) == data

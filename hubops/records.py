"""Run records: one JSON document per run, written atomically and never rewritten.

Each record goes to two stores: this machine's folder and the environment's state bucket, so that
CI runs and laptops share one history. Locally, a record is first written whole to a temporary
file in the same folder, flushed to disk, then hard-linked to its final name (which fails if that
name exists), so a crash leaves either no record or a whole one, and no record can replace
another. In S3 an object is written only if its key is absent.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from hubops.errors import RecordError
from hubops.secrets import redact

SCHEMA = 1
RECORDS_VARIABLE = "HUBOPS_RECORDS_DIR"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def operator() -> str:
    """Who ran it: the GitHub actor in CI, else user@host."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return f"{actor} (GitHub Actions run {os.environ.get('GITHUB_RUN_ID', '?')})"
    return f"{getpass.getuser()}@{socket.gethostname()}"


def records_dir(root: Path) -> Path:
    configured = os.environ.get(RECORDS_VARIABLE)
    return Path(configured) if configured else root / ".hubops" / "records"


def record_name(record: dict) -> str:
    """A unique, time-sortable name for one record."""
    stamp = record["started_at"].replace(":", "").replace("-", "")
    return f"{stamp}-{record.get('commit', 'unknown')[:12]}-{uuid.uuid4().hex[:8]}.json"


class LocalRecordStore:
    """Records in a local folder, one subfolder per environment."""

    source = "local"

    def __init__(self, directory: Path):
        self.directory = directory

    def write(self, record: dict, name: str | None = None) -> str:
        folder = self.directory / record["environment"]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / (name or record_name(record))
            with tempfile.NamedTemporaryFile(
                "w", dir=folder, prefix=".partial-", suffix=".json", delete=False
            ) as handle:
                json.dump(record, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(handle.name, final)  # refuses to replace an existing record
            finally:
                os.unlink(handle.name)
        except OSError as exc:
            raise RecordError(
                f"Could not write the run record under {folder}: {exc.strerror or exc}. The run "
                f"itself is over; set {RECORDS_VARIABLE} to a writable folder for the next one."
            ) from None
        return str(final)

    def list(self, env_name: str, limit: int | None = None) -> list[dict]:
        """This environment's newest records (names sort by time); unreadable ones are reported."""
        folder = self.directory / env_name
        records = []
        paths = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
        for path in paths[:limit]:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise RecordError(
                    f"Run record {path} is unreadable ({exc}): move it aside."
                ) from None
            record["source"] = self.source
            record["location"] = str(path)
            records.append(record)
        return records


class S3RecordStore:
    """Records beside the state, so CI runs and laptops share one history.

    One object per run under `hubops-records/ENV/` in the environment's state bucket (encrypted
    by the bucket's default key), written only if absent: a record is never overwritten.
    """

    source = "s3"
    prefix = "hubops-records"

    def __init__(self, env):
        self.bucket = env.backend.bucket
        self.region = env.backend.region

    def _client(self):
        from hubops import aws

        return aws.client("s3", self.region)

    def write(self, record: dict, name: str | None = None) -> str:
        from hubops import aws
        from hubops.errors import AwsError

        key = f"{self.prefix}/{record['environment']}/{name or record_name(record)}"
        body = json.dumps(record, indent=2, sort_keys=True).encode() + b"\n"
        try:
            aws.call(
                self._client().put_object,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except AwsError as exc:
            # The name is unique to this run: if it exists, a retried write already landed.
            if exc.code != "PreconditionFailed":
                raise RecordError(
                    f"Could not write the run record to s3://{self.bucket}/{key}: "
                    f"{str(exc).rstrip('.')}. The run itself is over."
                ) from exc
        return f"s3://{self.bucket}/{key}"

    def list(self, env_name: str, limit: int | None = None) -> list[dict]:
        from hubops import aws
        from hubops.errors import AwsError

        client = self._client()
        folder = f"{self.prefix}/{env_name}/"
        records = []
        try:
            objects = aws.paginate(
                client, "list_objects_v2", "Contents", Bucket=self.bucket, Prefix=folder
            )
            for item in sorted(objects, key=lambda o: o["Key"], reverse=True)[:limit]:
                body = aws.call(client.get_object, Bucket=self.bucket, Key=item["Key"])["Body"]
                try:
                    record = json.loads(body.read())
                except ValueError as exc:
                    raise RecordError(
                        f"Run record s3://{self.bucket}/{item['Key']} is unreadable ({exc}): "
                        "move it aside."
                    ) from None
                record["source"] = self.source
                record["location"] = f"s3://{self.bucket}/{item['Key']}"
                records.append(record)
        except AwsError as exc:
            raise RecordError(
                f"Could not read the run records in s3://{self.bucket}/{folder}: {exc}"
            ) from exc
        return records


def stores(root: Path, env) -> list:
    """Every store a record is written to and read from: this machine's, and the state bucket."""
    return [LocalRecordStore(records_dir(root)), S3RecordStore(env)]


def write_record(root: Path, env, record: dict) -> list[str]:
    """Write the record to every store; the locations written.

    Every store is tried even when one fails; then one RecordError says what failed and where
    the record was written nonetheless. The name is the same in every store, so that `history`
    shows the run once.
    """
    name = record_name(record)
    # Errors quote tofu's and AWS's own words, which may carry the shell's credentials.
    record = json.loads(redact(json.dumps(record)))
    written, failures = [], []
    for store in stores(root, env):
        try:
            written.append(store.write(record, name))
        except RecordError as exc:
            failures.append(str(exc))
    if failures:
        where = f"is only in {' and '.join(written)}" if written else "was not written anywhere"
        raise RecordError(" ".join(failures) + f" Its record {where}.")
    return written


def history(root: Path, env, limit: int | None = None) -> list[dict]:
    """The newest `limit` (default: all) records of this environment from every store."""
    merged: dict[str, dict] = {}
    for store in stores(root, env):
        for record in store.list(env.name, limit):
            # A laptop's run is in both stores under one name: show it once, labelled with both.
            name = record["location"].rsplit("/", 1)[-1]
            if name in merged:
                merged[name]["source"] += f"+{record['source']}"
            else:
                merged[name] = record
    return sorted(merged.values(), key=lambda r: r.get("started_at", ""), reverse=True)[:limit]

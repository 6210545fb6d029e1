"""Run records: one JSON document per run, written atomically and never rewritten.

Each record goes to two stores: this machine's folder and the environment's state bucket, so that
CI runs and laptops share one history. Locally, a record is first written whole to a temporary
file (`.partial-*.json`) in the same folder, flushed to disk, then hard-linked to its final name
(which fails if that name exists), so a crash leaves either no record or a whole one, and no
record can replace another. In S3 an object is written only if its key is absent.

Records are `RunRecord`s of their operation's kind (`hubops.facts.run_record`); JSON exists only
here, where they are stored.
Reading never trusts what it finds: names starting with "." (a write cut short leaves
`.partial-*.json`) are never records, and a record that is not a JSON object whose every field
has its type is skipped and named in `History.problems`, as is a store that cannot be read at
all; the other store's runs are still shown.

When both stores refuse a record, it is not lost: `write_record` writes it to a private fallback
file, `FALLBACK_DIR/ENV/NAME.json` (mode 0600), and the RecordError it raises names that file and
carries the record's JSON, so the operator's terminal (or the CI log) holds it whole even when the
fallback fails too. FALLBACK_DIR is `$HUBOPS_RECORDS_FALLBACK_DIR` when set, else
`hubops-records-fallback-UID` (mode 0700, owned by this user) in the system's temporary folder
(`tempfile.gettempdir()`), chosen because it is writable on machines where the repository (and
often the home folder) is not; copy the file into the records folder to have `history` show it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import stat
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

from hubops.adapters.clock import as_text
from hubops.adapters.secrets import redact
from hubops.adapters.settings import raw as read_setting
from hubops.facts import layout, settings
from hubops.facts.bucket_layout import RECORDS_PREFIX
from hubops.facts.errors import RecordError
from hubops.facts.run_history import History
from hubops.facts.run_record import RunRecord, read_record
from hubops.facts.typed_json import ShapeError

RECORDS_VARIABLE = settings.RECORDS_DIR
FALLBACK_VARIABLE = settings.RECORDS_FALLBACK_DIR


def operator() -> str:
    """Who ran it: the GitHub actor in CI, else user@host."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return f"{actor} (GitHub Actions run {os.environ.get('GITHUB_RUN_ID', '?')})"
    return f"{getpass.getuser()}@{socket.gethostname()}"


def records_dir(root: Path) -> Path:
    configured = read_setting(RECORDS_VARIABLE)
    return Path(configured) if configured else layout.records_dir(root)


def fallback_dir() -> Path:
    """Where a record both stores refused is kept (see the module's docstring)."""
    configured = read_setting(FALLBACK_VARIABLE)
    if configured:
        return Path(configured)
    uid = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"hubops-records-fallback-{uid}"


def record_name(record: RunRecord) -> str:
    """A unique, time-sortable name for one record."""
    stamp = record.started_at.replace(":", "").replace("-", "")
    return f"{stamp}-{record.commit[:12]}-{uuid.uuid4().hex[:8]}.json"


def is_record_name(name: str) -> bool:
    """Only whole records: never `.partial-*` leftovers of a write cut short, nor other files."""
    return name.endswith(".json") and not name.startswith(".")


def parse_record(
    text: str | bytes, where: str, source: str, stored_at: str | None = None
) -> RunRecord:
    """The record stored at `where` (by the state bucket at `stored_at`), or a RecordError saying
    why it cannot be shown."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"Run record {where} is not valid JSON ({exc}): skipped.") from None
    if not isinstance(data, dict):
        raise RecordError(
            f"Run record {where} is not a JSON object (it holds {type(data).__name__}): skipped."
        )
    try:
        return read_record(data, source=source, location=where, stored_at=stored_at)
    except ShapeError as exc:
        raise RecordError(f"Run record {where} {exc}: skipped.") from None


class LocalRecordStore:
    """Records in a local folder, one subfolder per environment."""

    source = "local"

    def __init__(self, directory: Path):
        self.directory = directory

    def write(self, record: RunRecord, name: str | None = None) -> str:
        """Store the record, as `name` (default: a new one); where it went."""
        folder = self.directory / record.environment
        partial = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / (name or record_name(record))
            with tempfile.NamedTemporaryFile(
                "w", dir=folder, prefix=".partial-", suffix=".json", delete=False
            ) as handle:
                partial = handle.name
                handle.write(stored_text(record))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(partial, final)  # refuses to replace an existing record
        except OSError as exc:
            raise RecordError(
                f"Could not write the run record under {folder}: {exc.strerror or exc}. The run "
                f"itself is over; set {RECORDS_VARIABLE} to a writable folder for the next one."
            ) from None
        finally:
            if partial is not None:
                try:
                    os.unlink(partial)
                except OSError:
                    pass  # never read as a record: its name starts with "."
        return str(final)

    def list(self, env_name: str, limit: int | None = None) -> History:
        """This environment's newest `limit` readable records (names sort by time); the others
        are skipped and named in `problems`. A folder that cannot be listed raises RecordError."""
        folder = self.directory / env_name
        found = History()
        try:
            names = sorted(
                (p.name for p in folder.iterdir() if is_record_name(p.name)), reverse=True
            )
        except FileNotFoundError:
            return found
        except OSError as exc:
            raise RecordError(
                f"Could not read the run records in {folder}: {exc.strerror or exc}"
            ) from None
        for name in names:
            if limit is not None and len(found) >= limit:
                break
            path = folder / name
            try:
                record = parse_record(path.read_bytes(), str(path), self.source)
            except OSError as exc:
                found.problems.append(
                    f"Run record {path} is unreadable ({exc.strerror or exc}): skipped."
                )
                continue
            except RecordError as exc:
                found.problems.append(str(exc))
                continue
            found.append(record)
        return found


class S3RecordStore:
    """Records beside the state, so CI runs and laptops share one history.

    One object per run under `hubops-records/ENV/` in the environment's state bucket (encrypted
    by the bucket's default key), written only if absent: a record is never overwritten.
    """

    source = "s3"
    prefix = RECORDS_PREFIX

    def __init__(self, env):
        self.bucket = env.backend.bucket
        self.region = env.backend.region

    def _client(self):
        from hubops.adapters import aws

        return aws.client("s3", self.region)

    def write(self, record: RunRecord, name: str | None = None) -> str:
        """Like LocalRecordStore.write."""
        from hubops.adapters import aws
        from hubops.facts.errors import AwsError

        key = f"{self.prefix}/{record.environment}/{name or record_name(record)}"
        try:
            aws.call(
                self._client().put_object,
                Bucket=self.bucket,
                Key=key,
                Body=stored_text(record).encode(),
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

    def list(self, env_name: str, limit: int | None = None) -> History:
        """Like LocalRecordStore.list; a bucket that cannot be read raises RecordError."""
        from hubops.adapters import aws
        from hubops.facts.errors import AwsError

        client = self._client()
        folder = f"{self.prefix}/{env_name}/"
        found = History()
        try:
            objects = aws.paginate(
                client, "list_objects_v2", "Contents", Bucket=self.bucket, Prefix=folder
            )
            stored = {
                o["Key"]: o.get("LastModified")
                for o in objects
                if is_record_name(o["Key"].rsplit("/", 1)[-1])
            }
            for key in sorted(stored, reverse=True):
                if limit is not None and len(found) >= limit:
                    break
                location = f"s3://{self.bucket}/{key}"
                try:
                    body = aws.call(client.get_object, Bucket=self.bucket, Key=key)["Body"]
                except AwsError as exc:
                    if exc.code == "NoSuchKey":  # removed since it was listed
                        continue
                    raise
                try:
                    stored_at = as_text(stored[key]) if stored[key] else None
                    record = parse_record(body.read(), location, self.source, stored_at)
                except RecordError as exc:
                    found.problems.append(str(exc))
                    continue
                found.append(record)
        except AwsError as exc:
            raise RecordError(
                f"Could not read the run records in s3://{self.bucket}/{folder}: {exc}"
            ) from exc
        return found


def stores(root: Path, env) -> list:
    """Every store a record is written to and read from: this machine's, and the state bucket."""
    return [LocalRecordStore(records_dir(root)), S3RecordStore(env)]


def require_writable(root: Path, env) -> None:
    """Before a run changes anything: can this machine's records folder for `env` take a record?

    Creates the folder, writes and removes a probe file (named with a leading ".", so never read
    as a record); a RecordError says what to do otherwise.
    """
    folder = records_dir(root) / env.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-", suffix=".json") as probe:
            probe.write(b"{}\n")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise RecordError(
            f"Run records cannot be written under {folder}: {exc.strerror or exc}. Nothing was "
            f"changed; set {RECORDS_VARIABLE} to a writable folder (or make this one writable) "
            "and run again."
        ) from None


def stored_text(record: RunRecord) -> str:
    """The record as every store keeps it: JSON, with the credentials redacted (its errors quote
    tofu's and AWS's own words, which may carry the shell's)."""
    return redact(json.dumps(record.to_json(), indent=2, sort_keys=True)) + "\n"


def write_record(root: Path, env, record: RunRecord) -> list[str]:
    """Write the record to every store; the locations written.

    Every store is tried even when one fails; then one RecordError says what failed and where
    the record was written nonetheless. When no store took it, the record goes to a private
    fallback file (see the module's docstring) and the RecordError names that file and carries
    the record's JSON. The name is the same in every store, so that `history` shows the run once.
    """
    name = record_name(record)
    written, failures = [], []
    for store in stores(root, env):
        try:
            written.append(store.write(record, name))
        except RecordError as exc:
            failures.append(str(exc))
    if written and failures:
        raise RecordError(" ".join(failures) + f" Its record is only in {' and '.join(written)}.")
    if failures:
        text = stored_text(record)
        try:
            kept = _write_fallback(record.environment, name, text)
        except OSError as exc:
            where = (
                f"Its record was not written anywhere, not even to {fallback_dir()} "
                f"({exc.strerror or exc}); here it is whole, keep it:"
            )
        else:
            where = (
                f"Its record was not written to either store; it is kept in {kept} (copy it to "
                f"{records_dir(root) / record.environment}/ to have `invoke history` show "
                "it). The record:"
            )
        raise RecordError(" ".join(failures) + f" {where}\n{text.rstrip()}")
    return written


def _write_fallback(env_name: str, name: str, text: str) -> Path:
    """Write `text` to a new file readable by this user only; its path."""
    top = fallback_dir()
    top.mkdir(mode=0o700, parents=True, exist_ok=True)
    if FALLBACK_VARIABLE not in os.environ:
        # In the shared temporary folder, use the folder only if it is this user's own.
        info = os.lstat(top)
        if (
            not stat.S_ISDIR(info.st_mode)
            or (hasattr(os, "getuid") and info.st_uid != os.getuid())
            or info.st_mode & 0o077
        ):
            raise OSError(f"{top} is not a folder of this user's alone")
    folder = top / env_name
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def history(root: Path, env, limit: int | None = None) -> History:
    """The newest `limit` (default: all) records of this environment from every store.

    A store that cannot be read, or a record that is malformed, does not hide the rest: it is
    named in the result's `problems` for the caller to print.
    """
    merged: dict[str, RunRecord] = {}
    problems: list[str] = []
    for store in stores(root, env):
        try:
            found = store.list(env.name, limit)
        except RecordError as exc:
            problems.append(str(exc))
            continue
        problems.extend(found.problems)
        for record in found:
            # A laptop's run is in both stores under one name: show it once, labelled with both.
            seen = merged.get(record.name)
            if seen is not None:
                merged[record.name] = replace(
                    seen,
                    source=f"{seen.source}+{record.source}",
                    stored_at=seen.stored_at or record.stored_at,
                )
            else:
                merged[record.name] = record
    # A record whose own time is suspect stands where the state bucket's clock puts it.
    runs = sorted(merged.values(), key=lambda r: r.ordered_at, reverse=True)
    return History(runs[:limit], problems)

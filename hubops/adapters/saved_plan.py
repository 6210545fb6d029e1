"""Saved plans that bind what was shown to what is applied.

Every run writes its plan to a file of its own (`.hubops/plans/ENV/RUN.tfplan`, readable by its
owner only: it holds variables and prior state) and fingerprints it (sha256) when it is shown;
the apply checks the bytes again just before it starts, so a plan file swapped while the operator
read the first one is refused rather than applied.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hubops.facts.errors import HubopsError
from hubops.facts.layout import plans_dir


class PlanMismatch(HubopsError):
    """The saved plan is not the one that was shown (or reviewed)."""


def private_folder(folder: Path) -> Path:
    """`folder`, made if missing, readable by its owner only (plans hold variables and state)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_plan_path(root: Path, env_name: str) -> Path:
    """A fresh plan file name for one run, in a folder only its owner can read."""
    folder = private_folder(plans_dir(root, env_name))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"{stamp}-{uuid.uuid4().hex[:8]}.tfplan"


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    sha256: str

    @classmethod
    def of(cls, path: Path) -> SavedPlan:
        """A plan this run wrote itself, made owner-only."""
        if not path.is_file():
            raise PlanMismatch(f"The saved plan {path} is missing: plan again.")
        path.chmod(0o600)
        return cls(path, sha256_of(path))

    @classmethod
    def private_copy(
        cls, root: Path, env_name: str, content: bytes, expected_sha256: str, source: str
    ) -> SavedPlan:
        """A reviewed plan's bytes, checked, in a file of this run's own (owner-only): what the
        engine reads cannot change under it, and the operator's file is never touched."""
        expected, found = expected_sha256.strip().lower(), hashlib.sha256(content).hexdigest()
        if found != expected:
            raise _changed(source, "reviewed", expected, found)
        path = new_plan_path(root, env_name)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(content)
        return cls(path, found)

    def verify(self, expected_sha256: str | None = None) -> None:
        """The file still holds the bytes that were shown (and, if given, those reviewed)."""
        expected = (expected_sha256 or self.sha256).strip().lower()
        found = sha256_of(self.path) if self.path.is_file() else "missing"
        if found != expected:
            raise _changed(
                str(self.path), "reviewed" if expected_sha256 else "shown", expected, found
            )

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _changed(source: str, since: str, expected: str, found: str) -> PlanMismatch:
    return PlanMismatch(
        f"The saved plan {source} has changed since it was {since} (sha256 {expected[:16]}..., "
        f"now {found[:16]}...): nothing was applied. Plan again and review the new plan."
    )


class NotAPlainFile(Exception):
    """A path that is a symbolic link, a named pipe, a folder: anything but a plain file."""


def read_plain_file(path: Path) -> bytes:
    """A file's bytes, read once, never through a symbolic link (whose target could change
    between two looks), never waiting on a named pipe, and without changing the file; raises
    NotAPlainFile, or OSError when it cannot be opened."""
    try:  # non-blocking: a named pipe is refused, not waited on
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotAPlainFile(path) from None
        raise
    with os.fdopen(handle, "rb") as given:
        if not stat.S_ISREG(os.fstat(given.fileno()).st_mode):
            raise NotAPlainFile(path)
        return given.read()


def read_given_plan(path: Path) -> bytes:
    """The bytes of a plan file the operator names (`read_plain_file`)."""
    try:
        return read_plain_file(path)
    except NotAPlainFile:
        raise PlanMismatch(
            f"The saved plan {path} is a symbolic link or not a plain file: give the plan file "
            "itself. Nothing was applied."
        ) from None
    except OSError as exc:
        raise PlanMismatch(
            f"The saved plan {path} cannot be read ({exc.strerror}): give the file `invoke plan "
            "--out` wrote. Nothing was applied."
        ) from None

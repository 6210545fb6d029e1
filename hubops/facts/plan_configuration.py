"""The configuration a saved plan carries, read from the plan's own bytes, and how it differs from
a commit's files.

A saved plan is a zip archive: besides its changes and variables (`tfplan`) it holds a snapshot
of every configuration file the engine loaded (`tfconfig/m-KEY/FILE`, one folder per module,
`tfconfig/modules.json` saying which folder of the working directory each module came from) and
the provider lock file (`.terraform.lock.hcl`). Applying a plan applies that snapshot, not the
files on disk: so a plan is the commit's only when its snapshot is exactly the commit's files.
OpenTofu and Terraform write the same layout (internal/plans/planfile, internal/configs/configload).
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import zipfile
from dataclasses import dataclass

from hubops.facts.engine_files import LOCK_FILE, is_configuration_file

SNAPSHOT_DIR = "tfconfig/"
MANIFEST = SNAPSHOT_DIR + "modules.json"
# A saved plan is small; anything past this is not one the engine wrote.
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


class NotAPlanSnapshot(ValueError):
    """The bytes hold no configuration snapshot a saved plan would have (why, in words)."""


@dataclass(frozen=True)
class PlanConfiguration:
    files: dict[str, bytes]  # path relative to the working directory -> bytes
    folders: frozenset[str]  # each module's folder ("" for the root module)
    lock_file: bytes | None


def read_plan_configuration(content: bytes) -> PlanConfiguration:
    """The snapshot a saved plan carries; NotAPlanSnapshot when there is none to read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        if sum(info.file_size for info in members.values()) > MAX_SNAPSHOT_BYTES:
            raise NotAPlanSnapshot("it unpacks to more than a saved plan ever holds")
        if MANIFEST not in members:
            raise NotAPlanSnapshot(f"it holds no {MANIFEST}")
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except ValueError as exc:
            raise NotAPlanSnapshot(f"its {MANIFEST} is not JSON ({exc})") from None
        folders = _module_folders(manifest)
        files = {}
        for name in members:
            if not name.startswith(SNAPSHOT_DIR) or name == MANIFEST:
                continue
            folder_key, _, file_name = name[len(SNAPSHOT_DIR) :].partition("/")
            key = folder_key.removeprefix("m-")
            if not folder_key.startswith("m-") or key not in folders or "/" in file_name:
                raise NotAPlanSnapshot(f"{name} belongs to no module of its {MANIFEST}")
            files[_join(folders[key], file_name)] = archive.read(name)
        lock = archive.read(LOCK_FILE) if LOCK_FILE in members else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise NotAPlanSnapshot(f"it is not a saved plan's zip archive ({exc})") from None
    return PlanConfiguration(files, frozenset(folders.values()), lock)


def _module_folders(manifest) -> dict[str, str]:
    """Module key -> its folder relative to the working directory; local modules only."""
    if not isinstance(manifest, list):
        raise NotAPlanSnapshot(f"its {MANIFEST} is not a list of modules")
    folders = {}
    for entry in manifest:
        entry = entry if isinstance(entry, dict) else {}
        key, folder, source = entry.get("Key"), entry.get("Dir"), entry.get("Source", "")
        if not isinstance(key, str) or not isinstance(folder, str) or not isinstance(source, str):
            raise NotAPlanSnapshot(f"its {MANIFEST} names a module without a key and a folder")
        if key and not source.startswith(("./", "../")):
            raise NotAPlanSnapshot(
                f"module {key} comes from {source!r}, outside the repository, where no commit "
                "can vouch for it"
            )
        folders[key] = _folder(folder)
    return folders


def _folder(folder: str) -> str:
    normal = posixpath.normpath(folder.replace("\\", "/"))
    if normal == ".":
        return ""
    if normal.startswith(("../", "/")) or normal == "..":
        raise NotAPlanSnapshot(f"a module's folder {folder!r} is outside the working directory")
    return normal


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def git_blob_id(content: bytes, object_id_length: int) -> str:
    """The id git gives a file of these bytes (sha1, or sha256 in a sha256 repository)."""
    digest = hashlib.sha256 if object_id_length == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(content) + content).hexdigest()


def differences(config: PlanConfiguration, tree: dict[str, str]) -> list[str]:
    """Each file in which the plan's configuration differs from a commit's `tree` ({path: blob
    id} of every plain file), as "PATH (how)"; empty when the plan is that commit's."""
    length = len(next(iter(tree.values()), "0" * 40))
    committed = {
        path: blob
        for path, blob in tree.items()
        if posixpath.dirname(path) in config.folders
        and is_configuration_file(posixpath.basename(path))
    }
    found = []
    for path in sorted(set(config.files) | set(committed)):
        if path not in committed:
            found.append(f"{path} (not in the commit)")
        elif path not in config.files:
            found.append(f"{path} (in the commit, not in the plan)")
        elif git_blob_id(config.files[path], length) != committed[path]:
            found.append(f"{path} (changed)")
    if LOCK_FILE in tree and (
        config.lock_file is None or git_blob_id(config.lock_file, length) != tree[LOCK_FILE]
    ):
        found.append(f"{LOCK_FILE} (changed)")
    return found

"""The user image's own files, read: `docker/environment.yml` (its packages) and `docker/Dockerfile`
(its base image).

One home for their formats: the offline validator (`hubops.tfcheck.image`) and the image tasks
read them through here. Packages are conda match specs (`name==1.2.3`, `name=1.2`, `name>=1`,
`channel::name ...`); an item `pip:` holds PEP 508 requirements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hubops.facts.errors import HubopsError

IMAGE_DIR = "docker"
ENVIRONMENT_FILE = f"{IMAGE_DIR}/environment.yml"
DOCKERFILE = f"{IMAGE_DIR}/Dockerfile"

_NAME = re.compile(r"^(?:(?P<channel>[\w./-]+)::)?(?P<name>[A-Za-z0-9][\w.-]*)(?P<rest>.*)$")
# `==VERSION`, optionally `=BUILD` after it: one version, nothing else matches.
_EXACT = re.compile(r"^\s*={2,3}\s*(?P<version>[0-9][0-9A-Za-z_.+!]*)(?:=[\w.*]+)?\s*$")
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?P<ref>\S+)", re.IGNORECASE)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ImageFileError(HubopsError):
    """An image file is missing or cannot be read; `line` 1 when no line is to blame."""

    def __init__(self, path: Path, line: int, message: str):
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Package:
    """One package of environment.yml, where it is, and its exact version if it has one."""

    name: str  # normalised: lower case, `_` and `.` as `-`
    spec: str  # as written
    line: int
    version: str | None  # the pinned version; None when the spec is not one exact version
    pip: bool = False


@dataclass(frozen=True)
class BaseImage:
    reference: str  # as written after FROM
    line: int
    repository: str
    tag: str | None
    digest: str | None


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_packages(path: Path) -> list[Package]:
    """Every package environment.yml lists, with its line; ImageFileError when it is malformed."""
    import yaml

    text = _read(path)
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ImageFileError(path, line, f"not valid YAML: {exc}") from None
    dependencies = _mapping_value(document, "dependencies")
    if dependencies is None or not isinstance(dependencies, yaml.SequenceNode):
        raise ImageFileError(
            path,
            1,
            "no `dependencies:` list: list the image's packages under it, one "
            "`- name==VERSION` a line",
        )
    packages = []
    for item in dependencies.value:
        if isinstance(item, yaml.ScalarNode):
            packages.append(_package(str(item.value), item.start_mark.line + 1, pip=False))
            continue
        pip = _mapping_value(item, "pip")
        if isinstance(pip, yaml.SequenceNode):
            packages += [
                _package(str(sub.value), sub.start_mark.line + 1, pip=True)
                for sub in pip.value
                if isinstance(sub, yaml.ScalarNode)
            ]
    return packages


def read_base_image(path: Path) -> BaseImage | None:
    """The last FROM of the Dockerfile (the stage that is the image); None when it has none."""
    found = None
    lines = _read(path).splitlines()
    for number, line in enumerate(lines, start=1):
        match = _FROM.match(line)
        if match:
            found = (match["ref"], number)
    if found is None:
        return None
    reference, line = found
    rest, _, digest = reference.partition("@")
    # A tag follows the last `:` after the last `/` (a registry's `host:port/` is not a tag).
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        repository, tag = rest[:colon], rest[colon + 1 :]
    else:
        repository, tag = rest, None
    return BaseImage(reference, line, repository, tag or None, digest or None)


def is_digest(value: str | None) -> bool:
    return bool(value and _DIGEST.match(value))


def _package(spec: str, line: int, *, pip: bool) -> Package:
    text = spec.split("#", 1)[0].strip()
    if pip:
        text = text.split(";", 1)[0].strip()  # an environment marker
    match = _NAME.match(text)
    if not match:
        return Package(normalise(text), spec, line, None, pip)
    rest = re.sub(r"^\[[^\]]*\]", "", match["rest"])  # extras: name[extra]==1
    exact = _EXACT.match(rest)
    version = exact["version"] if exact and "*" not in exact["version"] else None
    return Package(normalise(match["name"]), spec, line, version, pip)


def _mapping_value(node, key: str):
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for name, value in node.value:
        if isinstance(name, yaml.ScalarNode) and name.value == key:
            return value
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImageFileError(path, 1, "missing: the user image is built from it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImageFileError(path, 1, f"cannot be read: {exc}") from None

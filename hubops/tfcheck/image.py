"""The user image's checks in `invoke validate`: a rebuild of a commit gives the same image.

- `docker/environment.yml` pins every package to one exact version (`name==VERSION`);
  `dask` and `distributed` are the same release.
- Its `dask-gateway` equals the Dask Gateway chart version the tree installs (the `version` of the
  `helm_release` whose chart is `dask-gateway`, followed through module variables, their callers
  and the environments' values): the client in the image and the gateway in the cluster must be
  one release.
- `docker/Dockerfile` names its base image by tag and digest.

The checks run when the checked folder has a `docker/` folder (the repository's own tree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters import image_files
from hubops.adapters.hcl import is_expression
from hubops.tfcheck.structure import Finding, Module, Tree

GATEWAY_CHART = "dask-gateway"
GATEWAY_PACKAGE = "dask-gateway"
# Released together, and distributed requires its own dask release exactly.
SAME_RELEASE = ("dask", "distributed")
_VAR = re.compile(r"^var\.(?P<name>[A-Za-z_][\w-]*)$")


@dataclass(frozen=True)
class ChartVersion:
    """One place that sets the Dask Gateway chart version; `version` None: not a literal."""

    version: str | None
    path: str
    line: int
    setting: str  # what sets it, for messages: `variable "x" default`, `cae: x`, ...

    @property
    def where(self) -> str:
        return f"{self.setting}, {self.path}:{self.line}"


def check_image(tree: Tree, module_dirs: list[Path], envs) -> list[Finding]:
    """Findings for the image files; none when the tree has no `docker/` folder."""
    if not (tree.root / image_files.IMAGE_DIR).is_dir():
        return []
    findings = _check_dockerfile(tree)
    env_path = tree.root / image_files.ENVIRONMENT_FILE
    rel = tree.rel(env_path)
    try:
        packages = image_files.read_packages(env_path)
    except image_files.ImageFileError as exc:
        return findings + [Finding(rel, exc.line, exc.message)]
    findings += _check_pins(rel, packages)
    findings += _check_gateway(rel, packages, chart_versions(tree, module_dirs, envs))
    return findings


def chart_versions(tree: Tree, module_dirs: list[Path], envs) -> list[ChartVersion]:
    """Every value the Dask Gateway chart version takes in this tree (empty: no such chart)."""
    found: list[ChartVersion] = []
    for module, parsed, block in _blocks(tree, module_dirs, "resource"):
        if block.labels[:1] != ["helm_release"]:
            continue
        chart = block.attrs.get("chart")
        if chart is None or chart.value != GATEWAY_CHART:
            continue
        version = block.attrs.get("version")
        label = f'resource "helm_release" "{block.labels[-1]}"'
        if version is None:
            found.append(ChartVersion(None, tree.rel(parsed.path), block.line, label))
            continue
        found += _values(
            tree, module_dirs, envs, module, version.value, parsed.path, version.line,
            f"{label} version",
        )  # fmt: skip
    return found


def _blocks(tree: Tree, module_dirs: list[Path], kind: str):
    """(module, file, block) for every `kind` block of the modules in `module_dirs`."""
    for directory in module_dirs:
        module = tree.module(directory)
        if module is None:
            continue
        for parsed in module.files:
            for block in parsed.blocks_of(kind):
                yield module, parsed, block


def _values(tree, module_dirs, envs, module: Module, value, path, line, setting) -> list:
    """What an expression in `module` evaluates to, followed through `var.` references."""
    if not is_expression(value):
        return [ChartVersion(str(value), tree.rel(path), line, setting)]
    name = _variable_reference(value)
    variable = module.variables.get(name) if name else None
    if variable is None:
        return [ChartVersion(None, tree.rel(path), line, setting)]
    results: list[ChartVersion] = []
    callers = _callers(tree, module_dirs, module.directory)
    unset_somewhere = not callers or any(name not in call.attrs for _, _, call in callers)
    for caller, parsed, call in callers:
        if name in call.attrs:
            attr = call.attrs[name]
            results += _values(
                tree, module_dirs, envs, caller, attr.value, parsed.path, attr.line,
                f'module "{call.labels[0]}" {name}',
            )  # fmt: skip
    if unset_somewhere:
        default = f'variable "{name}" default'
        if variable.has_default:
            results += _values(
                tree, module_dirs, envs, module, variable.default, variable.path, variable.line,
                default,
            )  # fmt: skip
        if module.directory == tree.root:
            for env in envs:
                setting = env.setting(name)
                if setting is not None:
                    parsed, attr = setting
                    results += [
                        ChartVersion(
                            None if is_expression(attr.value) else str(attr.value),
                            tree.rel(parsed.path),
                            attr.line,
                            f"{env.name}: {name}",
                        )
                    ]
    return results


def _callers(tree: Tree, module_dirs: list[Path], target: Path):
    """(calling module, file, module block) for every local call of the module in `target`."""
    calls = []
    for caller, parsed, block in _blocks(tree, module_dirs, "module"):
        source = block.attrs.get("source")
        if source is None or not isinstance(source.value, str):
            continue
        if not source.value.startswith(("./", "../")):
            continue
        if (caller.directory / source.value).resolve() == target.resolve():
            calls.append((caller, parsed, block))
    return calls


def _variable_reference(expression: str) -> str | None:
    """NAME for the expression `${var.NAME}`, None for anything else."""
    match = _VAR.match(expression[2:-1].strip())
    return match["name"] if match else None


def _check_pins(rel: str, packages: list[image_files.Package]) -> list[Finding]:
    findings = []
    for package in packages:
        if package.version is None:
            pin = f"{package.name}==VERSION"
            findings.append(
                Finding(
                    rel,
                    package.line,
                    f"{package.spec!r} is not pinned to one exact version: write `{pin}` "
                    "(a `=1.2` or `>=1.2` lets a rebuild of this commit install another release, "
                    "so a git revert would not bring the old image back)",
                )
            )
    pinned = {p.name: p for p in packages if p.version}
    first, second = (pinned.get(name) for name in SAME_RELEASE)
    if first and second and first.version != second.version:
        findings.append(
            Finding(
                rel,
                second.line,
                f"{second.name}=={second.version} is not the release of "
                f"{first.name}=={first.version} (line {first.line}): pin both to the same "
                f"version, which {second.name} requires",
            )
        )
    return findings


def _check_gateway(rel: str, packages, versions: list[ChartVersion]) -> list[Finding]:
    if not versions:
        return []
    gateway = next((p for p in packages if p.name == GATEWAY_PACKAGE), None)
    literal = sorted({v.version for v in versions if v.version})
    findings = [
        Finding(
            v.path,
            v.line,
            f"the Dask Gateway chart version ({v.setting}) is not a literal, so it cannot be "
            f"checked against the image's {GATEWAY_PACKAGE}: write the version itself",
        )
        for v in versions
        if v.version is None
    ]
    if gateway is None:
        wanted = f"{GATEWAY_PACKAGE}=={literal[0]}" if len(literal) == 1 else GATEWAY_PACKAGE
        return findings + [
            Finding(
                rel,
                1,
                f"no {GATEWAY_PACKAGE} package: add `- {wanted}` under dependencies, the Dask "
                "Gateway chart version the cluster runs (users' clusters need the client)",
            )
        ]
    if gateway.version is None:
        return findings  # reported as unpinned
    for version in versions:
        if version.version and version.version != gateway.version:
            findings.append(
                Finding(
                    rel,
                    gateway.line,
                    f"{GATEWAY_PACKAGE}=={gateway.version} differs from the Dask Gateway chart "
                    f"version {version.version} ({version.where}): the client in the image and "
                    "the gateway in the cluster must be the same release; set both to one version",
                )
            )
    return findings


def _check_dockerfile(tree: Tree) -> list[Finding]:
    path = tree.root / image_files.DOCKERFILE
    rel = tree.rel(path)
    try:
        base = image_files.read_base_image(path)
    except image_files.ImageFileError as exc:
        return [Finding(rel, exc.line, exc.message)]
    if base is None:
        return [Finding(rel, 1, "no FROM line: name the base image (tag and digest)")]
    if base.tag and image_files.is_digest(base.digest):
        return []
    tag = base.tag or "TAG"
    return [
        Finding(
            rel,
            base.line,
            f"the base image {base.reference} is not pinned by tag and digest: write "
            f"`FROM {base.repository}:{tag}@sha256:DIGEST` (`docker buildx imagetools inspect "
            f"{base.repository}:{tag}` prints the digest), so a rebuild starts from the same bytes",
        )
    ]

"""Which environments a range of commits rebuilds, and why: the guide's promotion rules as code.

- A file under `environments/<env>/` rebuilds that environment.
- A file under `modules/`, or a root file OpenTofu reads (`*.tf`, `*.tofu` and their `.json`
  forms, `terraform.tfvars`, `*.auto.tfvars`, `.terraform.lock.hcl`:
  `hubops.adapters.engine_inputs`), is
  shared: it rebuilds every environment except production, so a template change is tried in
  testing and dev without touching production.
- Production is rebuilt only when its own files changed and the branch is `main`.
- A file under `docker/` rebuilds the user image (no environment: they all run its `latest`, and
  CI builds it before it applies any environment); pushed and made `latest` only from `main`.
- Anything else (docs, tests, Python, workflows) rebuilds nothing.
- A renamed file counts for both its old and its new path; a deleted one for its old path.
- A symbolic link among OpenTofu's inputs is refused: what changes behind it would go unseen.
- A base this clone does not have (a force push replaced it) is replaced by the merge base with
  main, as an all-zero base is.

Only git is run here (no HCL parsing, no AWS), so a pre-push hook can afford it on every push.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hubops.adapters.engine_inputs import SHARED_DIRS, committed_inputs, is_root_file, refuse_links
from hubops.adapters.git import git, is_shallow, resolve_commit
from hubops.facts.environments import ENVIRONMENTS_DIR, PRODUCTION, promotion_sorted
from hubops.facts.errors import EnvironmentFileError, GitError

MAIN_BRANCH = "main"
# A full commit id (SHA-1 or SHA-256), as GitHub's `before` always is.
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# The user image's folder: a change there rebuilds the image, not an environment.
IMAGE_DIR = "docker"
# GitHub's `before` for a branch's first push (SHA-1 and SHA-256 repositories).
ZERO_SHAS = frozenset({"0" * 40, "0" * 64})
# What an all-zero base is compared with, first match wins: the remote's main is what was last
# deployed from, the local one stands in where there is no remote.
MAIN_CANDIDATES = (f"origin/{MAIN_BRANCH}", MAIN_BRANCH)
_VERBS = {"A": "added", "M": "changed", "T": "changed", "D": "deleted"}


@dataclass
class ChangeReport:
    """The verdict for one range: `environments` in promotion order, each with its reasons."""

    base: str
    head: str
    branch: str | None
    environments: list[str]
    reasons: dict[str, list[str]]
    # Environments whose files changed but that are not rebuilt, with why (production off main).
    held_back: dict[str, str] = field(default_factory=dict)
    # How an all-zero base was replaced (a new branch's first push), for the reader.
    base_note: str | None = None
    # Why the user image is rebuilt (empty: it is not).
    image: list[str] = field(default_factory=list)

    @property
    def rebuilds_image(self) -> bool:
        return bool(self.image)

    @property
    def includes_production(self) -> bool:
        return PRODUCTION in self.environments

    def to_json(self) -> dict:
        return {
            "environments": self.environments,
            "reasons": self.reasons,
            "held_back": self.held_back,
            "image": {"rebuild": self.rebuilds_image, "reasons": self.image},
            "base": self.base,
            "head": self.head,
            "branch": self.branch,
        }

    def render(self) -> str:
        """The report for a person: what is rebuilt and why, loud when production is."""
        on = f"on branch {self.branch}" if self.branch else "on a detached HEAD"
        span = f"{self.base[:12]}..{self.head[:12]} {on}"
        lines = [self.base_note] if self.base_note else []
        if self.environments:
            lines.append(f"Changes {span} rebuild: {', '.join(self.environments)}")
            for env in self.environments:
                lines.append(f"  {env}:")
                lines.extend(f"    - {reason}" for reason in self.reasons[env])
        else:
            lines.append(f"Changes {span} rebuild no environment.")
        if self.image:
            if self.branch == MAIN_BRANCH:
                what = (
                    "before any environment; pushed as :COMMIT-SHA and made latest, so every "
                    f"environment, {PRODUCTION} included, runs it from its next server start"
                )
            else:
                what = f"built and smoke-tested only; pushed and made latest on {MAIN_BRANCH} only"
            lines.append(f"The user image is rebuilt ({what}):")
            lines.extend(f"    - {reason}" for reason in self.image)
        for env, why in self.held_back.items():
            lines.append(f"{env} is not rebuilt: {why}")
        if self.includes_production:
            lines = _production_banner() + lines + _production_banner()
        return "\n".join(lines)

    def github_outputs(self) -> dict[str, str]:
        """Step outputs: the list, the same as a job matrix, `image=true|false`."""
        return {
            "environments": json.dumps(self.environments, separators=(",", ":")),
            "matrix": json.dumps({"environment": self.environments}, separators=(",", ":")),
            "image": "true" if self.rebuilds_image else "false",
        }


# A chart shipped with a module (modules/hub/charts/target-group-binding/...), and its version.
_CHART = re.compile(r"^modules/[^/]+/charts/[^/]+/.+")
_CHART_VERSION = re.compile(r"^version:\s*[\"']?([^\s\"']+)", re.M)


def _production_banner() -> list[str]:
    text = [
        f"PRODUCTION: THIS REBUILDS {PRODUCTION.upper()}.",
        "Its apply is supervised: watch it. Exit status 3 means its load balancer",
        "changed: set the DNS record it prints by hand, or users cannot log in.",
    ]
    width = max(map(len, text))
    rule = "!" * (width + 6)
    return [rule, *(f"!! {line:<{width}} !!" for line in text), rule]


def detect_changes(
    root: Path, base: str, head: str = "HEAD", branch: str | None = None
) -> ChangeReport:
    """The environments that the commits from `base` to `head` rebuild on `branch`.

    `branch` None means HEAD is detached: production is then not rebuilt. An all-zero `base`
    (GitHub's `before` for a branch's first push) is replaced by the merge base of `head` with
    main.
    """
    _toplevel(root)
    head_sha = _resolve(root, head, "--head")
    base_note = None
    if base in ZERO_SHAS:
        base_sha, against = _merge_base_with_main(root, head_sha)
        base_note = (
            f"New branch (all-zero base): compared with its merge base with {against}, "
            f"{base_sha[:12]}."
        )
    elif resolve_commit(root, base) is None and _FULL_SHA.fullmatch(base) and not is_shallow(root):
        base_sha, against = _merge_base_with_main(root, head_sha)
        if base_sha == head_sha:
            raise GitError(
                f"--base {base[:12]} is not in this clone (a force push replaced it?), and "
                f"{head_sha[:12]} is on {against}'s history, so no merge base tells what changed: "
                "pass --base with the last commit applied (`invoke history --env ENV` shows it)."
            )
        base_note = (
            f"The base {base[:12]} is not in this clone (a force push replaced it?): compared "
            f"with the merge base with {against}, {base_sha[:12]}."
        )
    else:
        base_sha = _resolve(root, base, "--base")
    refuse_links(committed_inputs(root, head_sha)[1], head_sha)
    changes = _changed_paths(root, base_sha, head_sha)
    _refuse_unbumped_charts(root, base_sha, head_sha, [path for path, _ in changes])
    envs_at_head = _environments_at(root, head_sha)

    reasons: dict[str, list[str]] = {}
    image = [reason for path, reason in changes if PurePosixPath(path).parts[0] == IMAGE_DIR]
    for path, reason in changes:
        targets, shared = _rebuilds(path, envs_at_head)
        if shared:
            reason += f" (shared by every environment but {PRODUCTION})"
        for env in targets:
            if reason not in reasons.setdefault(env, []):
                reasons[env].append(reason)

    held_back = {}
    for env in [env for env in reasons if env not in envs_at_head]:
        gone = "; ".join(reasons.pop(env))
        held_back[env] = (
            f"its folder is gone at {head_sha[:12]} ({gone}): there is nothing to apply. If it "
            f"still runs, destroy it with `invoke destroy --env {env}` from a commit that has it."
        )
    if PRODUCTION in reasons and branch != MAIN_BRANCH:
        own = "; ".join(reasons.pop(PRODUCTION))
        where = f"the branch is {branch}" if branch else "HEAD is not on a branch"
        held_back[PRODUCTION] = (
            f"its files changed ({own}), but {where}, not {MAIN_BRANCH}: {PRODUCTION} is rebuilt "
            f"only by a push to {MAIN_BRANCH}."
        )
    ordered = promotion_sorted(reasons)
    return ChangeReport(
        base=base_sha,
        head=head_sha,
        branch=branch,
        environments=ordered,
        reasons={env: reasons[env] for env in ordered},
        held_back=held_back,
        base_note=base_note,
        image=list(dict.fromkeys(image)),
    )


def current_branch(root: Path) -> str | None:
    """The checked-out branch's short name, or None on a detached HEAD."""
    _toplevel(root)
    name = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return name.strip() or None


def _rebuilds(path: str, envs_at_head: list[str]) -> tuple[list[str], bool]:
    """The environments one changed path rebuilds, and whether it is a shared file."""
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[0] == ENVIRONMENTS_DIR:
        return [parts[1]], False
    shared_dir = parts[0] in SHARED_DIRS and len(parts) > 1
    shared_root_file = len(parts) == 1 and is_root_file(path)
    if shared_dir or shared_root_file:
        return [env for env in envs_at_head if env != PRODUCTION], True
    return [], False


def _changed_paths(root: Path, base: str, head: str) -> list[tuple[str, str]]:
    """(path, reason) for every path the diff touches; a rename yields both of its paths."""
    out = git(root, "diff", "--name-status", "-z", "-M", "--relative", "--no-ext-diff", base, head)
    fields = out.split("\0")
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[0] in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            verb = "renamed" if status[0] == "R" else "copied"
            if status[0] == "R":
                found.append((old, f"{old} {verb} to {new}"))
            found.append((new, f"{new} {verb} from {old}"))
        else:
            path = fields[i + 1]
            i += 2
            found.append((path, f"{path} {_VERBS.get(status[0], 'changed')}"))
    return found


def _refuse_unbumped_charts(root: Path, base: str, head: str, paths: list[str]) -> None:
    """A local chart (`modules/MODULE/charts/NAME/`) whose files changed must bump its
    `version`: Helm compares the chart's version and values, so an edited template under the same
    version plans as no change and is never applied."""
    charts = sorted({"/".join(p.split("/")[:4]) for p in paths if _CHART.match(p)})
    for chart in charts:
        before, after = _chart_version(root, base, chart), _chart_version(root, head, chart)
        if before is not None and before == after:
            changed = sorted(p for p in paths if p.startswith(f"{chart}/"))
            raise EnvironmentFileError(
                f"{chart} changed ({', '.join(changed)}) but its Chart.yaml version is still "
                f"{after}: bump it, or Helm plans the release as unchanged and applies nothing."
            )


def _chart_version(root: Path, commit: str, chart: str) -> str | None:
    """The `version:` of a chart's Chart.yaml at `commit` (None: no chart there then)."""
    text = git(root, "show", f"{commit}:{chart}/Chart.yaml", check=False)
    found = _CHART_VERSION.search(text)
    return found.group(1) if found else None


def _environments_at(root: Path, commit: str) -> list[str]:
    out = git(root, "ls-tree", "-d", "--name-only", "-z", commit, "--", f"{ENVIRONMENTS_DIR}/")
    names = [PurePosixPath(p).name for p in out.split("\0") if p]
    return promotion_sorted(names)


def _merge_base_with_main(root: Path, head: str) -> tuple[str, str]:
    for candidate in MAIN_CANDIDATES:
        main_sha = resolve_commit(root, candidate)
        if main_sha is None:
            continue
        merge_base = git(root, "merge-base", main_sha, head, check=False).strip()
        if not merge_base:
            raise GitError(
                f"{head[:12]} has no common history with {candidate} in this clone: fetch the "
                "whole history (`git fetch --unshallow`, or actions/checkout with "
                "fetch-depth: 0), or pass --base COMMIT."
            )
        return merge_base, candidate
    raise GitError(
        f"The base is all zeros (a new branch's first push), but there is no {MAIN_BRANCH} or "
        f"origin/{MAIN_BRANCH} to compare with: `git fetch origin {MAIN_BRANCH}`, or pass "
        "--base COMMIT."
    )


def _resolve(root: Path, ref: str, flag: str) -> str:
    sha = resolve_commit(root, ref)
    if sha is not None:
        return sha
    if is_shallow(root):
        raise GitError(
            f"{flag} {ref} is not in this clone, which is shallow: fetch the history "
            "(`git fetch --unshallow`, or actions/checkout with fetch-depth: 0) and try again."
        )
    raise GitError(
        f"{flag} {ref} is not a commit in this repository: pass a commit, branch or tag that "
        "exists (`git log --oneline` lists commits)."
    )


def _toplevel(root: Path) -> str:
    if not root.is_dir():
        raise GitError(f"{root} is not a folder: run this from a clone of the repository.")
    out = git(root, "rev-parse", "--show-toplevel", check=False).strip()
    if not out:
        raise GitError(
            f"{root} is not in a git repository: run this from a clone of the infrastructure "
            "repository (git clone ...), or set HUBOPS_ROOT to one."
        )
    return out

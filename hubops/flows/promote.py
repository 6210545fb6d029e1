"""Promotion: the step the guide leaves to memory (cae-dev must run what goes to production), made a
reviewed commit of the target's own files.

`invoke promote --to ENV` reads, from the state bucket's run records of the environment before
ENV, its last successful apply: the commit, the shared tree it ran (every file's blob id) and the
AMI release its nodes ran (pinned in its files at that commit, or, for cae-testing, which follows
AWS's release, what its node groups run in AWS). It refuses when that environment's newest apply
failed, or when the shared tree it last ran successfully is not HEAD's (the change has not been
through it yet). Otherwise it writes `environments/ENV/promotion.tfvars`, the one file the tree
reads for it: the node release and where it came from (`promoted_from`). Committed and pushed to
main, the change is ENV's own file, so it rebuilds ENV by the guide's rule, and ENV's apply checks
promotion parity against the same records.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters.environment_files import load_environment
from hubops.adapters.git import git
from hubops.adapters.record_lookups import predecessor_history
from hubops.facts.environments import PROMOTION_ORDER, Environment, predecessor
from hubops.facts.errors import AwsError, HubopsError
from hubops.facts.outcome import Outcome
from hubops.facts.run_history import last_successful_apply
from hubops.facts.run_record import APPLY, ApplyRecord
from hubops.flows.parity import (
    NODE_RELEASE_VARIABLE,
    differences,
    listed,
    pinned_release,
    shared_tree,
)
from hubops.flows.reviewed_plan import tree_digest

PROMOTED_FROM_VARIABLE = "promoted_from"


class PromotionRefused(HubopsError):
    """Nothing can be promoted now; the message says why and what to do. Nothing was written."""


@dataclass(frozen=True)
class Promotion:
    """What the environment before the target last applied successfully, to promote."""

    target: str
    source: str
    commit: str
    shared_tree: str  # sha256 of the shared tree's {path: blob id} (reviewed_plan.tree_digest)
    node_release: str
    record: str  # the run record's name, the same in both stores
    applied_at: str

    def promoted_from(self) -> dict:
        return {
            "environment": self.source,
            "commit": self.commit,
            "shared_tree": self.shared_tree,
            "record": self.record,
        }

    def file_text(self) -> str:
        """`environments/TARGET/promotion.tfvars`, as the tree reads it."""
        fields = self.promoted_from()
        width = max(map(len, fields))
        lines = [f"  {name.ljust(width)} = {json.dumps(value)}" for name, value in fields.items()]
        return (
            f"# What {self.target} takes from {self.source}, written by `invoke promote --to "
            f"{self.target}` (never by hand):\n"
            f"# {self.source}'s last successful apply, {self.applied_at} (run record "
            f"{self.record}).\n"
            f"{NODE_RELEASE_VARIABLE} = {json.dumps(self.node_release)}\n"
            f"{PROMOTED_FROM_VARIABLE} = {{\n" + "\n".join(lines) + "\n}\n"
        )


@dataclass(frozen=True)
class PromotionCheck:
    promotion: Promotion
    # What the target's files say now, where they differ: "name: now -> promoted".
    changes: list[str]

    @property
    def outcome(self) -> Outcome:
        """Behind (a promotion would change its files) is "changes planned", as a plan's."""
        return Outcome.CHANGES_PLANNED if self.changes else Outcome.OK


def check_promotion(root: Path, target_name: str) -> PromotionCheck:
    """What promoting into `target_name` would write, and how it differs from its files now;
    PromotionRefused when nothing may be promoted."""
    source = predecessor(target_name)
    if target_name not in PROMOTION_ORDER or source is None:
        raise PromotionRefused(
            f"Nothing is promoted into {target_name}: changes start in {PROMOTION_ORDER[0]}, then "
            f"go --to {PROMOTION_ORDER[1]}, then --to {PROMOTION_ORDER[2]}."
        )
    target = load_environment(root, target_name)
    good = _last_good_apply(root, target, source)
    head = git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
    untested = differences(good.shared_tree, shared_tree(root, head))
    if untested:
        raise PromotionRefused(
            f"{source} last applied commit {good.commit[:12]} successfully ({good.started_at}), "
            f"but HEAD's shared tree (modules/, root files) is not the one it ran:\n"
            f"{listed(untested)}\n"
            f"Apply HEAD to {source} first (`invoke apply --env {source}`), then promote. "
            "Nothing was written."
        )
    promotion = Promotion(
        target=target_name,
        source=source,
        commit=good.commit,
        shared_tree=tree_digest(good.shared_tree),
        node_release=_node_release(root, load_environment(root, source), good.commit),
        record=good.name,
        applied_at=good.started_at,
    )
    return PromotionCheck(promotion, _changes(target, promotion))


def write_promotion(check: PromotionCheck, target: Environment) -> Path:
    """Write the target's promotion file (whole, atomically); its path."""
    path = target.promotion_file
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=".promotion-", suffix=".tmp", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(check.promotion.file_text())
    os.replace(handle.name, path)
    return path


def _last_good_apply(root: Path, target: Environment, source: str) -> ApplyRecord:
    runs = predecessor_history(root, target)
    if runs.problems:
        raise PromotionRefused(
            f"The run records of {source} cannot all be read, so what it last ran is not "
            "certain:\n" + "\n".join(f"  - {p}" for p in runs.problems) + "\nNothing was written."
        )
    # Only the state bucket's records are evidence: this machine's folder is anyone's to write.
    applies = [
        run
        for run in runs
        if run.operation == APPLY and run.in_shared_store and isinstance(run, ApplyRecord)
    ]
    good = last_successful_apply([run for run in applies if run.shared_tree is not None])
    if good is None:
        raise PromotionRefused(
            f"{source} has no successful apply in its state bucket's run records: apply it first "
            f"(`invoke apply --env {source}`), then promote. Nothing was written."
        )
    newest = applies[0]
    if newest is not good and newest.outcome in (Outcome.FAILED, Outcome.COULD_NOT_LOOK):
        raise PromotionRefused(
            f"{source}'s newest apply, of commit {newest.commit[:12]} at {newest.started_at} "
            f"(record {newest.name}), failed: what {source} runs now is not known to work. Fix "
            f"{source} and apply it successfully, then promote. Nothing was written."
        )
    return good


def _node_release(root: Path, source: Environment, commit: str) -> str:
    """The AMI release `source`'s nodes ran at `commit`: pinned in its files then, else (it
    follows AWS's release) what its node groups run in AWS now."""
    return pinned_release(root, source.name, commit) or _release_in_aws(source)


def _release_in_aws(source: Environment) -> str:
    from hubops.adapters import aws

    client = aws.client("eks", source.region)
    try:
        groups = aws.paginate(
            client, "list_nodegroups", "nodegroups", clusterName=source.cluster_name
        )
        releases = {
            group: aws.call(
                client.describe_nodegroup, clusterName=source.cluster_name, nodegroupName=group
            )["nodegroup"].get("releaseVersion")
            for group in groups
        }
    except AwsError as exc:
        raise PromotionRefused(
            f"Could not ask AWS which AMI release {source.name}'s nodes run (cluster "
            f"{source.cluster_name}): {str(exc).rstrip('.')}. Nothing was written."
        ) from exc
    found = sorted({release for release in releases.values() if release})
    if len(found) != 1:
        seen = ", ".join(f"{g}: {r or 'none'}" for g, r in sorted(releases.items())) or "none"
        raise PromotionRefused(
            f"{source.name}'s node groups do not run one AMI release (cluster "
            f"{source.cluster_name}: {seen}): apply {source.name} until they do, then promote. "
            "Nothing was written."
        )
    return found[0]


def _changes(target: Environment, promotion: Promotion) -> list[str]:
    now = target.variables
    changes = []
    if now.get(NODE_RELEASE_VARIABLE) != promotion.node_release:
        changes.append(
            f"{NODE_RELEASE_VARIABLE}: {now.get(NODE_RELEASE_VARIABLE) or 'not set'} -> "
            f"{promotion.node_release}"
        )
    before = now.get(PROMOTED_FROM_VARIABLE) or {}
    if before != promotion.promoted_from():
        was = before.get("commit", "")[:12] if isinstance(before, dict) else ""
        changes.append(
            f"promoted commit: {was or 'none'} -> {promotion.commit[:12]} "
            f"({promotion.source}'s run record {promotion.record})"
        )
    return changes

"""`invoke promote`: what the environment before one last ran successfully becomes that
environment's own file, a reviewed commit; against moto's server, real git and the fake tofu."""

from __future__ import annotations

import re

import boto3

from tests.support.hub_world import record_successful_apply

RELEASE = "1.35.0-20261120"
NEWER = "1.35.1-20261201"
LAST_GOOD = re.compile(
    r"^cae-dev last applied commit ([0-9a-f]{12}) successfully at \S+ \(run record (\S+)\); its "
    r"nodes ran AMI release (\S+)\.$",
    re.M,
)


def commit_and_push(hub, message: str) -> str:
    from tests.support.git_repo import GitRepo

    repo = GitRepo(hub.root)
    sha = repo.commit(message)
    repo.push()
    return sha


def test_a_release_cae_dev_ran_is_promoted_into_productions_own_file_and_applied(hub_world):
    hub = hub_world("cae")
    dev_file = hub.root / "environments/cae-dev/promotion.tfvars"
    dev_file.write_text(dev_file.read_text().replace(RELEASE, NEWER))
    before = commit_and_push(hub, "cae-dev runs a newer AMI release")
    record_successful_apply(hub.root, hub.records_dir, "cae-dev")  # cae-dev applied it

    checked = hub.invoke("promote", "--to", "cae", "--check")
    promoted = hub.invoke("promote", "--to", "cae")

    assert checked.returncode == 2, checked.stdout + checked.stderr
    commit, record, release = LAST_GOOD.search(checked.stdout).groups()
    assert (commit, release) == (before[:12], NEWER)
    assert checked.stdout.endswith(
        "cae is behind cae-dev:\n"
        f"  node_release_version: {RELEASE} -> {NEWER}\n"
        f"  promoted commit: none -> {commit} (cae-dev's run record {record})\n"
        "`invoke promote --to cae` writes it.\n"
    )
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert promoted.stdout.endswith(
        "Wrote environments/cae/promotion.tfvars. Review it, commit it and push it to main (`git "
        "add environments/cae/promotion.tfvars && git commit -m 'Promote cae-dev to cae'`): the "
        "change is cae's own file, so its apply follows (`invoke changed` selects it).\n"
    )
    written = (hub.root / "environments/cae/promotion.tfvars").read_text()
    assert re.fullmatch(
        r"# What cae takes from cae-dev, written by `invoke promote --to cae` \(never by hand\):\n"
        rf"# cae-dev's last successful apply, \S+ \(run record {re.escape(record)}\)\.\n"
        rf'node_release_version = "{NEWER}"\n'
        r"promoted_from = \{\n"
        r'  environment = "cae-dev"\n'
        rf'  commit      = "{before}"\n'
        r'  shared_tree = "[0-9a-f]{64}"\n'
        rf'  record      = "{re.escape(record)}"\n'
        r"\}\n",
        written,
    ), written

    after = commit_and_push(hub, "Promote cae-dev to cae")
    changed = hub.invoke("changed", "--base", before, "--head", after, "--branch", "main")
    applied = hub.invoke("apply", "--env", "cae", "--yes")
    again = hub.invoke("promote", "--to", "cae", "--check")

    assert changed.returncode == 0, changed.stderr
    assert "!! PRODUCTION: THIS REBUILDS CAE." in changed.stdout
    assert (
        f"Changes {before[:12]}..{after[:12]} on branch main rebuild: cae\n"
        "  cae:\n"
        "    - environments/cae/promotion.tfvars changed\n"
    ) in changed.stdout
    assert applied.returncode == 0, applied.stdout + applied.stderr
    [planned] = [call for call in hub.fake_tofu.calls() if call[0] == "plan"]
    assert [arg for arg in planned if arg.startswith("-var-file=")] == [
        "-var-file=environments/cae/terraform.tfvars",
        "-var-file=environments/cae/promotion.tfvars",
    ]
    assert again.returncode == 0
    assert again.stdout.endswith("cae is up to date with cae-dev: nothing to promote.\n")


def test_nothing_is_promoted_after_a_failed_apply_of_cae_dev(hub_world):
    from hubops.adapters.clock import now
    from hubops.adapters.environment_files import load_environment
    from hubops.adapters.records import S3RecordStore
    from hubops.facts.outcome import Outcome
    from hubops.facts.run_record import ApplyRecord

    hub = hub_world("cae")
    started = now()
    failed = ApplyRecord("cae-dev", "f" * 40, started, applied=True, outcome=Outcome.FAILED)
    S3RecordStore(load_environment(hub.root, "cae-dev")).write(failed, "zz-failed.json")

    refused = hub.invoke("promote", "--to", "cae")

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: cae-dev's newest apply, of commit ffffffffffff at {started} "
        "(record zz-failed.json), failed: what cae-dev runs now is not known to work. Fix cae-dev "
        "and apply it successfully, then promote. Nothing was written.\n"
    )
    assert "promoted_from" not in (hub.root / "environments/cae/promotion.tfvars").read_text()


def test_nothing_is_promoted_before_cae_dev_ran_heads_shared_tree(hub_world):
    hub = hub_world("cae")
    (hub.root / "modules/edge/main.tf").write_text(
        (hub.root / "modules/edge/main.tf").read_text() + "# a change cae-dev has not run\n"
    )
    commit_and_push(hub, "A shared change")

    refused = hub.invoke("promote", "--to", "cae", "--check")

    assert refused.returncode == 1
    assert re.fullmatch(
        r"error: cae-dev last applied commit [0-9a-f]{12} successfully \(\S+\), but HEAD's "
        r"shared tree \(modules/, root files\) is not the one it ran:\n"
        r"  modules/edge/main.tf \(changed\)\n"
        r"Apply HEAD to cae-dev first \(`invoke apply --env cae-dev`\), then promote\. Nothing "
        r"was written\.\n",
        refused.stderr,
    ), refused.stderr


def test_nothing_is_promoted_from_an_environment_never_applied_or_into_the_first(hub_world):
    hub = hub_world("cae-dev")  # cae-testing has applied; cae-dev never has

    never = hub.invoke("promote", "--to", "cae")
    first = hub.invoke("promote", "--to", "cae-testing")
    missing = hub.invoke("promote")

    assert never.returncode == first.returncode == missing.returncode == 1
    assert never.stderr == (
        "error: cae-dev has no successful apply in its state bucket's run records: apply it "
        "first (`invoke apply --env cae-dev`), then promote. Nothing was written.\n"
    )
    assert first.stderr == (
        "error: Nothing is promoted into cae-testing: changes start in cae-testing, then go --to "
        "cae-dev, then --to cae.\n"
    )
    assert missing.stderr == (
        "error: --to is needed: the environment to promote into, cae-dev or cae.\n"
    )


def test_cae_dev_takes_the_release_cae_testings_nodes_run_in_aws(hub_world):
    hub = hub_world("cae-dev")  # cae-testing applied HEAD; it follows AWS's release
    eks = boto3.client("eks", region_name=hub.region)
    ec2 = boto3.client("ec2", region_name=hub.region)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(name="cae-testing", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    for group in ("hub", "main"):
        eks.create_nodegroup(clusterName="cae-testing", nodegroupName=group, nodeRole=role,
                             subnets=subnets, releaseVersion=NEWER)  # fmt: skip

    promoted = hub.invoke("promote", "--to", "cae-dev")

    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert f"its nodes ran AMI release {NEWER}.\n" in promoted.stdout
    assert (
        f'node_release_version = "{NEWER}"\n'
        in (hub.root / "environments/cae-dev/promotion.tfvars").read_text()
    )


def test_production_runs_only_the_node_release_cae_dev_ran(hub_world):
    hub = hub_world("cae")
    prod_file = hub.root / "environments/cae/promotion.tfvars"
    prod_file.write_text(prod_file.read_text().replace(RELEASE, NEWER))
    commit_and_push(hub, "Production pinned by hand to a release cae-dev never ran")

    refused = hub.invoke("apply", "--env", "cae", "--yes")
    overridden = hub.invoke("apply", "--env", "cae", "--yes", "--untested-shared-tree")

    assert refused.returncode == 1
    assert (
        f"  node_release_version {NEWER}, not the {RELEASE} cae-dev ran (`invoke promote --to "
        "cae` pins that)\n"
    ) in refused.stderr
    assert overridden.returncode == 0, overridden.stdout + overridden.stderr
    [record] = hub.records()  # the refusal came before anything ran: only the override's
    assert record["parity"]["override"] is True
    assert record["parity"]["untested"] == [
        f"node_release_version {NEWER}, not the {RELEASE} cae-dev ran (`invoke promote --to cae` "
        "pins that)"
    ]

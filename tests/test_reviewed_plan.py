"""A reviewed plan is applied only as the commit it was made from, and never leaves AWS in clear.

Each test reproduces, as an operator (or someone with a shell on the checkout) would, a way a
plan made from other files than the commit, or a plan swapped in the state bucket, reached
production before; against moto's server, the loopback DNS server and the fake tofu.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path

SAVED = re.compile(r"^Saved plan: (\S+) \(sha256 ([0-9a-f]{64})\)$", re.M)
KEPT = re.compile(r"^Kept at (s3://\S+) \(encrypted with the state's KMS key\)$", re.M)


def tofu_verbs(hub) -> list[str]:
    return [call[0] for call in hub.fake_tofu.calls() if call[0] != "version"]


def plan_for_review(hub, out: Path, *extra: str) -> tuple[str, str]:
    planned = hub.invoke("plan", "--env", hub.env_name, "--out", str(out), *extra)
    assert planned.returncode == 0, planned.stderr
    path, sha256 = SAVED.search(planned.stdout).groups()
    return planned.stdout, sha256


def apply_reviewed(hub, *how: str):
    return hub.invoke("apply", "--env", hub.env_name, *how, "--yes")


def s3(hub):
    import boto3

    return boto3.client("s3", region_name=hub.region)


def state_bucket(hub) -> str:
    from hubops.adapters.environment_files import load_environment

    return load_environment(hub.root, hub.env_name).backend.bucket


def test_a_plan_for_review_is_not_made_from_uncommitted_files(hub_world, tmp_path):
    hub = hub_world("cae")
    vars_file = hub.root / "environments/cae/terraform.tfvars"
    vars_file.write_text(vars_file.read_text() + 'budget_alert_emails = ["me@example.net"]\n')

    refused = hub.invoke("plan", "--env", "cae", "--out", str(tmp_path / "cae.tfplan"))

    assert refused.returncode == 1
    assert refused.stderr == (
        "error: The working tree has uncommitted changes (environments/cae/terraform.tfvars): "
        "commit or stash them first, so that what is applied is exactly a commit.\n"
    )
    assert not (tmp_path / "cae.tfplan").exists()
    assert "plan" not in tofu_verbs(hub)


def test_a_reviewed_plan_carries_its_commit_and_the_record_names_it(hub_world, tmp_path):
    hub = hub_world("cae")
    hub.replace_node_group()
    out = tmp_path / "cae.tfplan"
    stdout, sha256 = plan_for_review(hub, out)
    origin = json.loads((tmp_path / "cae.tfplan.json").read_text())

    applied = apply_reviewed(hub, "--plan-file", str(out), "--plan-sha256", sha256)

    assert applied.returncode == 0, applied.stderr
    assert f"Made at commit {origin['commit']} for review; its origin: {out}.json\n" in stdout
    # What the reviewer saw, as the engine draws it, before the summary and the apply.
    assert "OpenTofu will perform the following actions:" in applied.stdout
    assert applied.stdout.index("will perform the following actions") < applied.stdout.index(
        "Routing forecast:"
    )
    assert origin["environment"] == "cae"
    assert origin["plan_sha256"] == sha256
    assert stat.S_IMODE((tmp_path / "cae.tfplan.json").stat().st_mode) == 0o600
    [record] = hub.records()
    assert (record["commit"], record["plan_sha256"]) == (origin["commit"], sha256)
    # The engine applied a private copy, checked, that no one could change after the check.
    [applied_file] = [c[-1] for c in hub.fake_tofu.calls() if c[0] == "apply"]
    assert Path(applied_file).parent == Path(".hubops/plans/cae")
    assert out.read_bytes() and not (hub.root / applied_file).exists()


def test_a_plan_of_uncommitted_files_with_a_borrowed_origin_is_refused_by_its_variables(
    hub_world, tmp_path
):
    """The attack of issue 19: plan the edited tfvars, restore the file, apply the plan."""
    hub = hub_world("cae")
    clean = tmp_path / "clean.tfplan"
    plan_for_review(hub, clean)
    vars_file = hub.root / "environments/cae/terraform.tfvars"
    committed = vars_file.read_text()
    vars_file.write_text(committed.replace('"hub.example.org"', '"evil.example.net"'))
    previewed = hub.invoke("plan", "--env", "cae")  # a preview is allowed on uncommitted files
    vars_file.write_text(committed)  # `git checkout` the file back
    dirty, sha256 = SAVED.search(previewed.stdout).groups()

    no_origin = apply_reviewed(hub, "--plan-file", dirty, "--plan-sha256", sha256)
    origin = json.loads((tmp_path / "clean.tfplan.json").read_text())
    Path(f"{dirty}.json").write_text(json.dumps({**origin, "plan_sha256": sha256}))
    borrowed = apply_reviewed(hub, "--plan-file", dirty, "--plan-sha256", sha256)

    assert no_origin.returncode == 1
    assert no_origin.stderr == (
        f"error: {dirty} has no record of the commit it was made from ({Path(dirty).name}.json): "
        "only a plan made by `invoke plan --out FILE` from a clean checkout can be applied; make "
        "a new plan. Nothing was applied.\n"
    )
    assert borrowed.returncode == 1
    assert borrowed.stderr.endswith(
        f"error: the plan's variables differ from what commit {origin['commit'][:12]}'s "
        "environments/cae/terraform.tfvars and variables.tf give (domain): it was made from "
        "other files. Make a new plan from a clean checkout. Nothing was applied.\n"
    )
    assert "apply" not in tofu_verbs(hub)
    # Refused once the plan was read, after the baseline: recorded, nothing applied.
    [record] = hub.records()
    assert record["applied"] is False and record["exit_status"] == 1


def test_a_reviewed_plan_is_not_applied_at_another_commit(hub_world, project_repo, tmp_path):
    hub = hub_world("cae")
    out = tmp_path / "cae.tfplan"
    _, sha256 = plan_for_review(hub, out)
    made_at = project_repo.head()
    project_repo.write("environments/cae/notes.md", "a later change\n")
    project_repo.commit("a later commit")
    project_repo.push()

    refused = apply_reviewed(hub, "--plan-file", str(out), "--plan-sha256", sha256)

    head = project_repo.head()
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: the plan was made at commit {made_at[:12]}, but HEAD is {head[:12]}: check out "
        f"{made_at[:12]} or make a new plan. Nothing was applied.\n"
    )
    assert tofu_verbs(hub).count("init") == 1  # the plan's own; the apply never started tofu


def test_a_plan_for_review_is_never_written_over_an_existing_file(hub_world, tmp_path):
    hub = hub_world("cae-testing")
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n")

    refused = hub.invoke("plan", "--env", "cae-testing", "--out", str(existing))

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: {existing} already exists: give --out a new file name (a plan for review is "
        "never written over another file). Nothing was planned.\n"
    )
    assert existing.read_text() == "keep me\n"


def test_a_plan_file_given_as_a_symbolic_link_is_refused_untouched(hub_world, tmp_path):
    hub = hub_world("cae-testing")
    out = tmp_path / "cae-testing.tfplan"
    _, sha256 = plan_for_review(hub, out)
    out.chmod(0o644)
    link = tmp_path / "link.tfplan"
    link.symlink_to(out)
    Path(f"{link}.json").write_text((tmp_path / "cae-testing.tfplan.json").read_text())

    refused = hub.invoke(
        "apply", "--env", "cae-testing", "--plan-file", str(link), "--plan-sha256", sha256, "--yes"
    )

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: The saved plan {link} is a symbolic link or not a plain file: give the plan "
        "file itself. Nothing was applied.\n"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # hubops did not make it: not its to chmod


# -- production's plan is kept in the state bucket, encrypted with the state's key ---------------


def test_a_plan_kept_in_the_state_bucket_is_encrypted_with_the_states_key_and_applied(
    hub_world, tmp_path
):
    from hubops.adapters.environment_files import load_environment

    hub = hub_world("cae")
    hub.replace_node_group()
    stdout, sha256 = plan_for_review(hub, tmp_path / "cae.tfplan", "--upload")
    [location] = KEPT.findall(stdout)
    origin = json.loads((tmp_path / "cae.tfplan.json").read_text())
    bucket = state_bucket(hub)
    key = f"plans/cae/{origin['commit']}-{sha256}.tfplan"

    assert location == f"s3://{bucket}/{key}"
    head = s3(hub).head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == load_environment(hub.root, "cae").backend.kms_key_id
    assert head["Metadata"] == {
        "environment": "cae",
        "commit": origin["commit"],
        "shared-tree": origin["shared_tree"],
        "plan-sha256": sha256,
    }

    applied = apply_reviewed(hub, "--plan-s3", location, "--plan-sha256", sha256)

    assert applied.returncode == 0, applied.stderr
    [record] = hub.records()
    assert (record["commit"], record["plan_sha256"], record["applied"]) == (
        origin["commit"],
        sha256,
        True,
    )
    applied_file = hub.root / [c for c in hub.fake_tofu.calls() if c[0] == "apply"][0][-1]
    assert applied_file.parent == hub.root / ".hubops/plans/cae"
    assert not applied_file.exists()  # the fetched copy does not outlive the run


def test_a_plan_swapped_in_the_state_bucket_is_refused_by_its_sha256(hub_world, tmp_path):
    hub = hub_world("cae")
    stdout, sha256 = plan_for_review(hub, tmp_path / "cae.tfplan", "--upload")
    [location] = KEPT.findall(stdout)
    key = location.removeprefix(f"s3://{state_bucket(hub)}/")
    kept = s3(hub).head_object(Bucket=state_bucket(hub), Key=key)
    s3(hub).put_object(
        Bucket=state_bucket(hub), Key=key, Body=b"a plan nobody reviewed", Metadata=kept["Metadata"]
    )
    swapped = hashlib.sha256(b"a plan nobody reviewed").hexdigest()

    refused = apply_reviewed(hub, "--plan-s3", location, "--plan-sha256", sha256)

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: The saved plan {location} has changed since it was reviewed (sha256 "
        f"{sha256[:16]}..., now {swapped[:16]}...): nothing was applied. Plan again and review "
        "the new plan.\n"
    )
    assert "apply" not in tofu_verbs(hub)
    assert list((hub.root / ".hubops").rglob("*.tfplan")) == []  # no copy of it was kept


def test_a_plan_location_outside_the_states_plans_folder_is_refused(hub_world):
    hub = hub_world("cae")
    bucket = state_bucket(hub)

    refused = apply_reviewed(
        hub, "--plan-s3", f"s3://{bucket}/cae/terraform.tfstate", "--plan-sha256", "ab" * 32
    )

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: s3://{bucket}/cae/terraform.tfstate is not a plan of cae: reviewed plans are "
        f"kept in s3://{bucket}/plans/cae/ (`invoke plan --env cae --out FILE --upload`). "
        "Nothing was applied.\n"
    )


def test_a_reviewed_plan_the_engine_refuses_as_stale_is_recorded_as_not_applied(
    hub_world, tmp_path
):
    hub = hub_world("cae-testing")
    hub.replace_node_group()
    out = tmp_path / "cae-testing.tfplan"
    _, sha256 = plan_for_review(hub, out)
    assert apply_reviewed(hub).returncode == 0  # another apply changes the state meanwhile

    stale = apply_reviewed(hub, "--plan-file", str(out), "--plan-sha256", sha256)

    assert stale.returncode == 1
    assert "Saved plan is stale" in stale.stderr
    newest = max(hub.records(), key=lambda record: record["started_at"])
    assert newest["plan_sha256"] == sha256
    assert newest["applied"] is False  # the engine refused it before changing anything


def test_a_plan_of_uncommitted_configuration_with_a_borrowed_origin_is_refused_by_its_files(
    hub_world, tmp_path
):
    """The attack of issue 26: plan an uncommitted .tf, delete it, apply that plan with the clean
    plan's origin; its variables are HEAD's, its configuration is not."""
    hub = hub_world("cae")
    clean = tmp_path / "clean.tfplan"
    plan_for_review(hub, clean)
    extra = hub.root / "zz.tf"
    extra.write_text('resource "terraform_data" "evil" {\n  input = "x"\n}\n')
    main_tf = hub.root / "modules/edge/main.tf"
    committed = main_tf.read_text()
    main_tf.write_text(committed + "# an uncommitted line\n")
    previewed = hub.invoke("plan", "--env", "cae")  # a preview is allowed on uncommitted files
    extra.unlink()
    main_tf.write_text(committed)
    dirty, sha256 = SAVED.search(previewed.stdout).groups()
    origin = json.loads((tmp_path / "clean.tfplan.json").read_text())
    Path(f"{dirty}.json").write_text(json.dumps({**origin, "plan_sha256": sha256}))

    borrowed = apply_reviewed(hub, "--plan-file", dirty, "--plan-sha256", sha256)

    assert borrowed.returncode == 1
    assert borrowed.stderr == (
        f"error: the plan's configuration is not commit {origin['commit'][:12]}'s: "
        "modules/edge/main.tf (changed), zz.tf (not in the commit): it was made from other "
        "files. Make a new plan from a clean checkout. Nothing was applied.\n"
    )
    assert "apply" not in tofu_verbs(hub)
    assert hub.records() == []  # refused before the run started, as a plan of another commit


def test_a_plan_without_its_configuration_is_refused(hub_world, tmp_path):
    hub = hub_world("cae")
    clean = tmp_path / "clean.tfplan"
    plan_for_review(hub, clean)
    origin = json.loads((tmp_path / "clean.tfplan.json").read_text())
    bare = tmp_path / "bare.tfplan"
    bare.write_bytes(b"not a zip archive")
    sha256 = hashlib.sha256(bare.read_bytes()).hexdigest()
    Path(f"{bare}.json").write_text(json.dumps({**origin, "plan_sha256": sha256}))

    refused = apply_reviewed(hub, "--plan-file", str(bare), "--plan-sha256", sha256)

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: The plan's configuration cannot be checked against commit "
        f"{origin['commit'][:12]}: it is not a saved plan's zip archive (File is not a zip "
        "file). Make a new plan from a clean checkout. Nothing was applied.\n"
    )


def test_an_origin_file_that_is_a_named_pipe_or_a_link_is_refused_without_waiting(
    hub_world, tmp_path
):
    import os

    hub = hub_world("cae")
    out = tmp_path / "cae.tfplan"
    _, sha256 = plan_for_review(hub, out)
    origin = Path(f"{out}.json")
    kept = tmp_path / "kept.json"
    origin.rename(kept)
    os.mkfifo(origin)  # a reader that waited on it would hold the run lock for ever

    piped = apply_reviewed(hub, "--plan-file", str(out), "--plan-sha256", sha256)
    origin.unlink()
    origin.symlink_to(kept)
    linked = apply_reviewed(hub, "--plan-file", str(out), "--plan-sha256", sha256)

    for refused in (piped, linked):
        assert refused.returncode == 1
        assert refused.stderr == (
            f"error: {origin} is a symbolic link or not a plain file: give the origin file "
            "`invoke plan --out` wrote beside the plan. Nothing was applied.\n"
        )
    assert "apply" not in tofu_verbs(hub)

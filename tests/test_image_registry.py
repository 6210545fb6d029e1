"""`invoke image` against moto's ECR: bootstrap, status, rollback and promote, as an operator (or
CI) runs them. Images are pushed as CI's `docker push` would leave them: a manifest tagged with
the commit sha."""

from __future__ import annotations

import hashlib
import json
import os

import boto3
import pytest

from hubops.bootstrap import registry as registry_module
from tests.support import invoking

REPOSITORY = "cae-user-image"
URI = f"123456789012.dkr.ecr.us-west-2.amazonaws.com/{REPOSITORY}"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def run_invoke(project_repo, *args, input=None):
    environ = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}
    return invoking.run_invoke(*args, cwd=project_repo.path, env=environ, input=input)


def ecr():
    return boto3.client("ecr", region_name="us-west-2")


def push_image(commit: str) -> str:
    """What CI's push leaves in ECR: one image tagged with its commit; returns its digest."""
    seed = hashlib.sha256(commit.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1234,
            "digest": f"sha256:{seed}",
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 5678,
                "digest": f"sha256:{hashlib.sha256(seed.encode()).hexdigest()}",
            }
        ],
    }
    ecr().put_image(
        repositoryName=REPOSITORY,
        imageManifest=json.dumps(manifest),
        imageManifestMediaType=MANIFEST_TYPE,
        imageTag=commit,
    )
    return digest_of(commit)


def digest_of(tag: str) -> str:
    [image] = ecr().describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])[
        "imageDetails"
    ]
    return image["imageDigest"]


def tag_latest(commit: str) -> None:
    [image] = ecr().batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": commit}])[
        "images"
    ]
    ecr().put_image(
        repositoryName=REPOSITORY, imageManifest=image["imageManifest"], imageTag="latest"
    )


@pytest.fixture
def repository(project_repo, aws_env):
    """The project's repository with its image repository bootstrapped in moto."""
    result = run_invoke(project_repo, "image", "bootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    return project_repo


def commits(project_repo, count: int) -> list[str]:
    """`count` new commits on main of the project repository (each changing docker/)."""
    made = []
    for number in range(count):
        project_repo.write("docker/environment.yml", f"# build {number}\n")
        made.append(project_repo.commit(f"Image change {number}"))
    return made


def test_bootstrap_creates_the_repository_scanned_on_push_with_a_lifecycle_policy(
    project_repo, aws_env
):
    first = run_invoke(project_repo, "image", "bootstrap")
    second = run_invoke(project_repo, "image", "bootstrap")

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"created  ECR repository {REPOSITORY} in account 123456789012 (us-west-2), scanned on "
        "push",
        f"created  lifecycle policy of {REPOSITORY}: keeps the image `latest` points at, the "
        "newest 100 images, untagged ones for 14 days",
        "Created or fixed 2; the image repository is ready.",
    ]
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        f"found    ECR repository {REPOSITORY} in account 123456789012 (us-west-2)",
        f"found    scan on push of {REPOSITORY}",
        f"found    lifecycle policy of {REPOSITORY}: keeps the image `latest` points at, the "
        "newest 100 images, untagged ones for 14 days",
        "Nothing to create: the image repository was already in place.",
    ]
    [created] = ecr().describe_repositories(repositoryNames=[REPOSITORY])["repositories"]
    assert created["imageScanningConfiguration"] == {"scanOnPush": True}
    assert created["imageTagMutability"] == "MUTABLE"
    policy = ecr().get_lifecycle_policy(repositoryName=REPOSITORY)["lifecyclePolicyText"]
    assert json.loads(policy) == registry_module.lifecycle_policy()


def test_the_lifecycle_policy_never_expires_latest_and_keeps_the_newest_images():
    rules = registry_module.lifecycle_policy()["rules"]

    # ECR: an image that matches a higher-priority rule's tags is never expired by a lower one.
    first = rules[0]
    assert first["selection"]["tagPatternList"] == ["latest"]
    assert first["selection"]["countType"] == "imageCountMoreThan"
    assert first["selection"]["countNumber"] >= 1  # only one image can carry `latest`
    assert [r["rulePriority"] for r in rules] == [1, 2, 3]
    assert rules[-1]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 100,
    }


def test_bootstrap_fixes_a_repository_made_by_hand_without_scanning(project_repo, aws_env):
    ecr().create_repository(repositoryName=REPOSITORY)

    result = run_invoke(project_repo, "image", "bootstrap")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        f"found    ECR repository {REPOSITORY} in account 123456789012 (us-west-2)",
        f"fixed    scan on push of {REPOSITORY}",
    ]
    [repo] = ecr().describe_repositories(repositoryNames=[REPOSITORY])["repositories"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}


def test_bootstrap_check_reports_a_missing_repository_and_creates_nothing(project_repo, aws_env):
    result = run_invoke(project_repo, "image", "bootstrap", "--check")

    assert result.returncode == 1
    assert result.stdout == (
        f"problem  ECR repository {REPOSITORY} does not exist in account 123456789012 (us-west-2)\n"
    )
    assert result.stderr == (
        f"error: the image repository {URI} is not ready: run `invoke image bootstrap` to "
        "create it.\n"
    )
    assert ecr().describe_repositories()["repositories"] == []


def test_bootstrap_refuses_to_create_anything_in_another_account(project_repo, aws_env):
    path = project_repo.path / "environments" / "cae" / "terraform.tfvars"
    path.write_text(path.read_text().replace("123456789012", "111122223333"))
    for env in ("cae-dev", "cae-testing"):
        other = project_repo.path / "environments" / env / "terraform.tfvars"
        other.write_text(other.read_text().replace("123456789012", "111122223333"))

    result = run_invoke(project_repo, "image", "bootstrap")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: Your AWS credentials are for account 123456789012 "
        "(arn:aws:sts::123456789012:user/moto), but cae lives in account 111122223333"
    )
    assert ecr().describe_repositories()["repositories"] == []


def test_environments_reading_different_repositories_are_refused_before_aws_is_asked(
    project_repo, aws_env
):
    tfvars = project_repo.path / "environments" / "cae-testing" / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text() + 'user_image_repository = "testing-image"\n')

    result = run_invoke(project_repo, "image", "status")

    assert result.returncode == 1
    assert result.stderr == (
        "error: The environments read the user image from different repositories (cae-testing: "
        "testing-image in account 123456789012 (us-west-2); cae-dev, cae: cae-user-image in "
        "account 123456789012 (us-west-2)). The image is built once and pushed to one repository: "
        "give every environment the same user_image_repository, aws_account_id and aws_region, "
        "or push to each by hand.\n"
    )


def test_status_shows_what_latest_points_at_which_commit_built_it_and_the_newest_images(
    repository,
):
    old, new = commits(repository, 2)
    old_digest = push_image(old)
    new_digest = push_image(new)
    tag_latest(new)

    result = run_invoke(repository, "image", "status")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"Repository  {URI}",
        f"latest      {new_digest}",
        lines[2],  # the time moto recorded
        "            Image change 1",
    ]
    assert lines[2].startswith(f"            built from commit {new}, pushed 20")
    assert lines[2].endswith(" UTC")
    assert lines[4] == "Newest 2 of 2 images:"
    listed = sorted(lines[5:])
    assert len(listed) == 2
    assert any(line.endswith(f"{new[:12]}  {new_digest[:19]}  latest") for line in listed)
    assert any(line.endswith(f"{old[:12]}  {old_digest[:19]}") for line in listed)


def test_status_of_an_empty_repository_says_nothing_was_pushed_yet(repository):
    result = run_invoke(repository, "image", "status")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Repository  {URI}",
        "latest      (no image is tagged latest: every server start fails to pull it)",
        "No images yet: the image workflow pushes one when a push to main changes docker/.",
    ]


def test_status_without_a_repository_says_to_bootstrap_it(project_repo, aws_env):
    result = run_invoke(project_repo, "image", "status")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: There is no image repository {REPOSITORY} in account 123456789012 (us-west-2): "
        "create it with `invoke image bootstrap`, then push an image (the image workflow does, "
        "on a push to main).\n"
    )


def test_rollback_shows_latest_now_and_then_and_moves_it_without_a_rebuild(repository):
    old, new = commits(repository, 2)
    old_digest = push_image(old)
    new_digest = push_image(new)
    tag_latest(new)

    result = run_invoke(repository, "image", "rollback", "--to", old[:9], "--yes")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Repository      {URI}"
    assert lines[1].startswith(f"latest now      {new_digest[:19]}, commit {new[:12]}, pushed ")
    assert lines[2].startswith(f"latest will be  {old_digest[:19]}, commit {old[:12]}, pushed ")
    assert lines[3] == (
        "Every environment, production included, starts new user servers and Dask workers on it; "
        "running servers keep their image until they restart."
    )
    assert lines[4].startswith(f"latest now points at {old_digest[:19]}, commit {old[:12]}")
    assert digest_of("latest") == old_digest
    assert digest_of(new) == new_digest  # the newer image stays, for a roll forward


def test_rollback_refuses_a_commit_that_has_no_image_and_changes_nothing(repository):
    old, new = commits(repository, 2)
    push_image(new)
    tag_latest(new)

    result = run_invoke(repository, "image", "rollback", "--to", old, "--yes")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: No image in {URI} was built from commit {old} (no tag of that sha): nothing was "
        "changed. `invoke image status` lists the images there and their commits; an image is "
        "pushed only by the image workflow, for commits that changed docker/.\n"
    )
    assert digest_of("latest") == digest_of(new)


def test_rollback_without_yes_and_without_a_terminal_refuses_and_moves_nothing(repository):
    old, new = commits(repository, 2)
    push_image(old)
    push_image(new)
    tag_latest(new)

    result = run_invoke(repository, "image", "rollback", "--to", old)

    assert result.returncode == 1
    assert result.stderr == (
        "error: No terminal to confirm on: pass --yes to move latest without asking. latest was "
        "not moved.\n"
    )
    assert digest_of("latest") == digest_of(new)


def test_rollback_to_the_image_latest_already_points_at_does_nothing(repository):
    [only] = commits(repository, 1)
    push_image(only)
    tag_latest(only)

    result = run_invoke(repository, "image", "rollback", "--to", only, "--yes")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "latest already points at that image: nothing to do."


def test_rollback_refuses_what_is_not_a_sha_before_asking_aws(project_repo, monkeypatch):
    from tests.support.dns_server import free_port

    # No AWS answers here: the refusal must come first.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = run_invoke(project_repo, "image", "rollback", "--to", "main", "--yes")

    assert result.returncode == 1
    assert result.stderr == (
        "error: 'main' is not a commit sha: give the commit whose image to use (its full sha, or "
        "at least its first 7 characters; `invoke image status` lists them).\n"
    )


def test_promote_moves_latest_to_the_commit_just_built(repository):
    [built] = commits(repository, 1)
    digest = push_image(built)

    result = run_invoke(repository, "image", "promote", "--sha", built)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "latest now      (no image is tagged latest)"
    assert f"latest now points at {digest[:19]}, commit {built[:12]}" in result.stdout
    assert digest_of("latest") == digest


def test_promote_never_moves_latest_back_to_an_older_commit(repository):
    """Two pushes to main build at once; the older one finishing last leaves latest alone."""
    old, new = commits(repository, 2)
    push_image(old)
    push_image(new)
    tag_latest(new)

    result = run_invoke(repository, "image", "promote", "--sha", old)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"latest stays at {new[:12]}: it is newer than {old[:12]} (a later push's image). To go "
        f"back on purpose: `invoke image rollback --to {old[:12]}`."
    )
    assert digest_of("latest") == digest_of(new)


def test_an_unknown_action_is_refused_with_the_known_ones(project_repo, aws_env):
    result = run_invoke(project_repo, "image", "push")

    assert result.returncode == 1
    assert result.stderr == (
        "error: unknown action 'push': use one of status, bootstrap, rollback, promote "
        "(`invoke --help image` explains each).\n"
    )


def test_no_credentials_in_any_output(repository):
    [built] = commits(repository, 1)
    push_image(built)

    results = [
        run_invoke(repository, "image", "status"),
        run_invoke(repository, "image", "promote", "--sha", built),
    ]

    for result in results:
        assert "testing" not in result.stdout + result.stderr  # the test's secret access key

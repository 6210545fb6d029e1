"""The user image's ECR repository: where it is, its images, where `:latest` points, and moving it.

Every environment runs `REPOSITORY:latest` (`user_image_tag`), production included, and reads the
repository with a data source (main.tf), outside any environment's state: destroying `cae-dev`
can never delete production's image. CI pushes each build as `:<commit sha>`; `:latest` is moved
by re-tagging an image's manifest (`batch_get_image` + `put_image`), so a rollback needs no
rebuild and gives the very bytes that were tested.

`ensure_repository` creates the repository where it is missing (scan on push, a lifecycle policy
that keeps the images a rollback may need) and is idempotent; `inspect` only reads.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters import aws
from hubops.adapters.environment_files import known_environments, load_environment, read_hcl
from hubops.bootstrap.report import CREATED, FIXED, FOUND, PROBLEM, Report, ReportLine
from hubops.facts.environments import PRODUCTION, Environment
from hubops.facts.errors import AwsError, EnvironmentFileError, PreflightError

REPOSITORY_VARIABLE = "user_image_repository"
LATEST = "latest"
# How many images the lifecycle policy keeps (newest first; `latest` is always kept): each one is
# a commit `invoke image rollback` can go back to.
IMAGES_KEPT = 100
UNTAGGED_DAYS = 14
PURPOSE_TAG = {"Key": "hubops:purpose", "Value": "user-image"}
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHORT = re.compile(r"^[0-9a-f]{7,40}$")
# What put_image may be handed back: single images and multi-platform indexes, Docker's and OCI's.
MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]
_NOT_FOUND = "RepositoryNotFoundException"


def lifecycle_policy() -> dict:
    """hubops's lifecycle policy: `latest` never expires, untagged images after 14 days, and
    tagged ones beyond the newest IMAGES_KEPT."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep the image latest points at, however old (a rollback).",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": [LATEST],
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} days.",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 3,
                "description": f"Keep the newest {IMAGES_KEPT} images: the commits a rollback "
                "can go back to.",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": IMAGES_KEPT,
                },
                "action": {"type": "expire"},
            },
        ]
    }


@dataclass(frozen=True)
class Registry:
    """The one ECR repository every environment reads the user image from."""

    account: str
    region: str
    repository: str
    environment: Environment  # the one whose identity is checked (production where it exists)

    @property
    def host(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"

    @property
    def uri(self) -> str:
        return f"{self.host}/{self.repository}"

    def client(self):
        return aws.client("ecr", self.region)


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime.datetime | None

    @property
    def commits(self) -> list[str]:
        """The commits this image was built from (its 40-hex tags)."""
        return sorted(t for t in self.tags if _COMMIT.match(t))

    @property
    def commit(self) -> str | None:
        return self.commits[0] if self.commits else None

    @property
    def is_latest(self) -> bool:
        return LATEST in self.tags

    def describe(self) -> str:
        """`sha256:0123456789ab, commit 0123456789ab, pushed 2025-10-21 10:00 UTC`"""
        commit = f"commit {self.commit[:12]}" if self.commit else "built from no known commit"
        return f"{self.digest[:19]}, {commit}, pushed {when(self.pushed_at)}"


def when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "at an unknown time"
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def find_registry(root: Path) -> Registry:
    """The image repository the environments share; PreflightError when they name several."""
    names = known_environments(root)
    if not names:
        raise EnvironmentFileError(
            f"No environments under {root / 'environments'}: the image repository is named by "
            "theirs (user_image_repository, aws_account_id, aws_region)."
        )
    default = _root_default(root)
    places: dict[tuple[str, str, str], list[Environment]] = {}
    for name in names:
        env = load_environment(root, name)
        repository = env.variables.get(REPOSITORY_VARIABLE, default)
        if not isinstance(repository, str) or not repository:
            raise EnvironmentFileError(
                f"{env.vars_file}: {REPOSITORY_VARIABLE} must be the name of an ECR repository, "
                f"not {repository!r}."
            )
        places.setdefault((env.account_id, env.region, repository), []).append(env)
    if len(places) > 1:
        where = "; ".join(
            f"{', '.join(e.name for e in envs)}: {repo} in account {account} ({region})"
            for (account, region, repo), envs in places.items()
        )
        raise PreflightError(
            f"The environments read the user image from different repositories ({where}). The "
            "image is built once and pushed to one repository: give every environment the same "
            f"{REPOSITORY_VARIABLE}, aws_account_id and aws_region, or push to each by hand."
        )
    [((account, region, repository), envs)] = places.items()
    chosen = next((e for e in envs if e.name == PRODUCTION), envs[0])
    return Registry(account, region, repository, chosen)


def _root_default(root: Path) -> str | None:
    path = root / "variables.tf"
    if not path.is_file():
        return None
    for block in read_hcl(path).blocks_of("variable"):
        if block.labels == [REPOSITORY_VARIABLE] and "default" in block.attrs:
            return block.attrs["default"].value
    return None


# -- the repository itself -------------------------------------------------------------------


@dataclass
class RepositoryReport(Report):
    registry: Registry
    lines: list[ReportLine] = field(default_factory=list)


def inspect(registry: Registry) -> RepositoryReport:
    """What exists of the repository and its settings; changes nothing."""
    return _Repository(registry, fix=False).run()


def ensure_repository(registry: Registry) -> RepositoryReport:
    """Create the repository and its settings where missing; a second run creates nothing."""
    return _Repository(registry, fix=True).run()


class _Repository:
    def __init__(self, registry: Registry, *, fix: bool):
        self.registry = registry
        self.fix = fix
        self.ecr = registry.client()
        self.report = RepositoryReport(registry)
        self.name = registry.repository

    def run(self) -> RepositoryReport:
        repository = self._repository()
        if repository is not None:
            self._scanning(repository)
            self._mutability(repository)
            self._lifecycle()
        return self.report

    def _repository(self) -> dict | None:
        place = f"in account {self.registry.account} ({self.registry.region})"
        try:
            [found] = aws.call(self.ecr.describe_repositories, repositoryNames=[self.name])[
                "repositories"
            ]
        except AwsError as exc:
            if exc.code != _NOT_FOUND:
                raise
        else:
            self.report.add(FOUND, f"ECR repository {self.name} {place}")
            return found
        if not self.fix:
            self.report.add(PROBLEM, f"ECR repository {self.name} does not exist {place}")
            return None
        try:
            created = aws.call(
                self.ecr.create_repository,
                repositoryName=self.name,
                imageScanningConfiguration={"scanOnPush": True},
                # `latest` moves from image to image; commit tags are never pushed twice.
                imageTagMutability="MUTABLE",
                tags=[PURPOSE_TAG],
            )["repository"]
        except AwsError as exc:
            if exc.code != "RepositoryAlreadyExistsException":  # made since we looked
                raise
            return self._repository()
        self.report.add(CREATED, f"ECR repository {self.name} {place}, scanned on push")
        return created

    def _scanning(self, repository: dict) -> None:
        if repository.get("imageScanningConfiguration", {}).get("scanOnPush"):
            if not any(line.status == CREATED for line in self.report.lines):
                self.report.add(FOUND, f"scan on push of {self.name}")
            return
        if not self.fix:
            self.report.add(PROBLEM, f"{self.name} does not scan images on push")
            return
        aws.call(
            self.ecr.put_image_scanning_configuration,
            repositoryName=self.name,
            imageScanningConfiguration={"scanOnPush": True},
        )
        self.report.add(FIXED, f"scan on push of {self.name}")

    def _mutability(self, repository: dict) -> None:
        if repository.get("imageTagMutability", "MUTABLE").startswith("IMMUTABLE"):
            self.report.add(
                PROBLEM,
                f"{self.name} has immutable tags, so `latest` can never move to a new image: "
                f"make them mutable (`aws ecr put-image-tag-mutability --repository-name "
                f"{self.name} --image-tag-mutability MUTABLE`)",
                fixable=False,
            )

    def _lifecycle(self) -> None:
        ours = lifecycle_policy()
        summary = (
            f"lifecycle policy of {self.name}: keeps the image `latest` points at, the newest "
            f"{IMAGES_KEPT} images, untagged ones for {UNTAGGED_DAYS} days"
        )
        try:
            text = aws.call(self.ecr.get_lifecycle_policy, repositoryName=self.name)[
                "lifecyclePolicyText"
            ]
        except AwsError as exc:
            if exc.code != "LifecyclePolicyNotFoundException":
                raise
        else:
            if json.loads(text) == ours:
                self.report.add(FOUND, summary)
            else:
                self.report.add(
                    FOUND,
                    f"a lifecycle policy of {self.name}'s own, kept as it is: make sure it never "
                    f"expires the image `latest` points at nor those a rollback may need",
                )
            return
        if not self.fix:
            self.report.add(PROBLEM, f"{self.name} has no lifecycle policy")
            return
        aws.call(
            self.ecr.put_lifecycle_policy,
            repositoryName=self.name,
            lifecyclePolicyText=json.dumps(ours),
        )
        self.report.add(CREATED, summary)


# -- images and latest ------------------------------------------------------------------------


def list_images(registry: Registry) -> list[Image]:
    """Every image of the repository, newest first."""
    ecr = registry.client()
    images: list[Image] = []
    kwargs: dict = {"repositoryName": registry.repository}
    while True:
        try:
            page = aws.call(ecr.describe_images, **kwargs)
        except AwsError as exc:
            if exc.code == _NOT_FOUND:
                raise PreflightError(
                    f"There is no image repository {registry.repository} in account "
                    f"{registry.account} ({registry.region}): create it with `invoke image "
                    "bootstrap`, then push an image (the image workflow does, on a push to main)."
                ) from None
            raise
        for detail in page.get("imageDetails", []):
            images.append(
                Image(
                    digest=detail["imageDigest"],
                    tags=tuple(sorted(detail.get("imageTags", []))),
                    pushed_at=detail.get("imagePushedAt"),
                )
            )
        token = page.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return sorted(images, key=lambda i: (i.pushed_at or oldest, i.digest), reverse=True)


def latest_image(images: list[Image]) -> Image | None:
    return next((image for image in images if image.is_latest), None)


@dataclass(frozen=True)
class LatestMove:
    """Where `latest` points now, and the image it is to point at."""

    registry: Registry
    current: Image | None
    target: Image

    @property
    def unchanged(self) -> bool:
        return self.current is not None and self.current.digest == self.target.digest

    def render(self) -> str:
        now = self.current.describe() if self.current else "(no image is tagged latest)"
        return "\n".join(
            [
                f"Repository      {self.registry.uri}",
                f"latest now      {now}",
                f"latest will be  {self.target.describe()}",
            ]
        )


def checked_sha(commit: str) -> str:
    """`commit` as a commit sha (lower case; the full sha or its first 7+ characters), asked
    before AWS is; PreflightError naming what to give otherwise."""
    wanted = commit.strip().lower()
    if not _SHORT.match(wanted):
        raise PreflightError(
            f"{commit!r} is not a commit sha: give the commit whose image to use (its full sha, "
            "or at least its first 7 characters; `invoke image status` lists them)."
        )
    return wanted


def plan_move(registry: Registry, commit: str) -> LatestMove:
    """The move of `latest` to the image built from `commit` (a sha, or its first 7+ characters).

    PreflightError when no image was built from it, or when an abbreviation names several.
    """
    wanted = checked_sha(commit)
    images = list_images(registry)
    matches = [image for image in images if any(c.startswith(wanted) for c in image.commits)]
    if not matches:
        raise PreflightError(
            f"No image in {registry.uri} was built from commit {commit} (no tag of that sha): "
            "nothing was changed. `invoke image status` lists the images there and their commits; "
            "an image is pushed only by the image workflow, for commits that changed docker/."
        )
    if len(matches) > 1:
        named = ", ".join(m.commit[:12] for m in matches if m.commit)
        raise PreflightError(
            f"{commit} is the start of several image commits ({named}): give more of the sha."
        )
    return LatestMove(registry, latest_image(images), matches[0])


def move_latest(move: LatestMove) -> bool:
    """Point `latest` at `move.target` by re-tagging its manifest; False when it already was."""
    if move.unchanged:
        return False
    ecr = move.registry.client()
    answer = aws.call(
        ecr.batch_get_image,
        repositoryName=move.registry.repository,
        imageIds=[{"imageDigest": move.target.digest}],
        acceptedMediaTypes=MANIFEST_TYPES,
    )
    if not answer.get("images"):
        failure = (answer.get("failures") or [{}])[0]
        raise AwsError(
            f"ECR could not give the manifest of {move.target.digest}: "
            f"{failure.get('failureCode', 'unknown')} {failure.get('failureReason', '')}".rstrip()
            + ". Nothing was changed; `invoke image status` shows what is there.",
            code=failure.get("failureCode", ""),
        )
    [image] = answer["images"]
    kwargs = {
        "repositoryName": move.registry.repository,
        "imageManifest": image["imageManifest"],
        "imageTag": LATEST,
    }
    if image.get("imageManifestMediaType"):
        kwargs["imageManifestMediaType"] = image["imageManifestMediaType"]
    try:
        aws.call(ecr.put_image, **kwargs)
    except AwsError as exc:
        if exc.code == "ImageAlreadyExistsException":  # moved there since we looked
            return False
        raise
    return True

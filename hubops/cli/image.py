"""Task: image (the user image in ECR): status, bootstrap, rollback --to SHA, promote --sha SHA."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import refused, task_edge

ACTIONS = ("status", "bootstrap", "rollback", "promote")
_REACH = (
    "Every environment, production included, starts new user servers and Dask workers on it; "
    "running servers keep their image until they restart."
)


@task(
    positional=["action"],
    help={
        "action": "status, bootstrap, rollback or promote",
        "to": "rollback: the commit whose image `latest` is to point at (7+ characters of its sha)",
        "sha": "promote: the commit just built and smoke-tested (CI: $GITHUB_SHA)",
        "yes": "rollback: do not ask (CI); without it a terminal is needed to confirm",
        "check": "bootstrap: only report; exit 1 when something is missing",
        "last": "status: how many of the newest images to list (default 10)",
    },
)
def image(c, action, to=None, sha=None, yes=False, check=False, last=10):
    """The user image's ECR repository, shared by every environment (production included).

    invoke image status            what `latest` points at, the commit that built it and when,
                                   and the newest images
    invoke image bootstrap         create the repository where it is missing (scan on push, a
                                   lifecycle policy keeping what a rollback needs); --check reports
    invoke image rollback --to SHA point `latest` at the image built from SHA, no rebuild: shows
                                   what `latest` is now and will be, then asks (--yes: does not)
    invoke image promote --sha SHA CI, after the smoke test: `latest` to SHA's image, never to an
                                   older commit than the one it points at
    Your AWS credentials must be the repository's account (`invoke whoami --env cae`).
    """
    if action not in ACTIONS:
        raise refused(
            f"error: unknown action {action!r}: use one of {', '.join(ACTIONS)} "
            "(`invoke --help image` explains each)."
        )
    from hubops.adapters.environment_files import project_root
    from hubops.adapters.identity import verify_identity
    from hubops.bootstrap.registry import checked_sha, find_registry

    if action == "rollback" and to:
        with task_edge():  # a malformed sha is refused before AWS is asked anything
            checked_sha(to)
    with task_edge():
        root = project_root()
        registry = find_registry(root)
        verify_identity(registry.environment)
    if action == "status":
        _status(registry, root, last)
    elif action == "bootstrap":
        _bootstrap(registry, check)
    elif action == "rollback":
        if not to:
            raise refused(
                "error: rollback needs --to SHA, the commit whose image `latest` is to point at "
                "(`invoke image status` lists them)."
            )
        _rollback(registry, to, yes)
    else:
        if not sha:
            raise refused("error: promote needs --sha SHA, the commit just built.")
        _promote(registry, root, sha)


def _status(registry, root, last: int) -> None:
    from hubops.adapters.git import git
    from hubops.bootstrap.registry import latest_image, list_images, when

    with task_edge():
        images = list_images(registry)
    latest = latest_image(images)
    say(f"Repository  {registry.uri}")
    if latest is None:
        say("latest      (no image is tagged latest: every server start fails to pull it)")
    else:
        commit = latest.commit
        subject = git(root, "log", "-1", "--format=%s", commit, "--", check=False) if commit else ""
        built = f"commit {commit}" if commit else "no commit tag"
        say(f"latest      {latest.digest}")
        say(f"            built from {built}, pushed {when(latest.pushed_at)}")
        if subject.strip():
            say(f"            {subject.strip()}")
    if not images:
        say("No images yet: the image workflow pushes one when a push to main changes docker/.")
        return
    shown = images[: max(last, 1)]
    say(f"Newest {len(shown)} of {len(images)} images:")
    for item in shown:
        commit = item.commit[:12] if item.commit else "-" * 12
        mark = "  latest" if item.is_latest else ""
        say(f"  {when(item.pushed_at)}  {commit}  {item.digest[:19]}{mark}")


def _bootstrap(registry, check: bool) -> None:
    from hubops.bootstrap.registry import ensure_repository, inspect

    with task_edge():
        report = inspect(registry) if check else ensure_repository(registry)
    say(report.render())
    if not report.ok:
        fixable = not report.unfixable
        step = "run `invoke image bootstrap` to create it" if fixable else "fix it as said above"
        raise refused(f"error: the image repository {registry.uri} is not ready: {step}.")
    if check:
        say(f"The image repository {registry.uri} is ready.")
    elif report.created:
        say(f"Created or fixed {len(report.created)}; the image repository is ready.")
    else:
        say("Nothing to create: the image repository was already in place.")


def _planned_move(registry, to: str):
    """The move of latest to `to`, shown; None when latest is there already."""
    from hubops.bootstrap.registry import plan_move

    with task_edge():
        move = plan_move(registry, to)
    say(move.render())
    if move.unchanged:
        say("latest already points at that image: nothing to do.")
        return None
    return move


def _rollback(registry, to: str, yes: bool) -> None:
    from hubops.bootstrap.registry import move_latest
    from hubops.cli.confirmation import ask_for_name, require_terminal

    move = _planned_move(registry, to)
    if move is None:
        return
    say(_REACH)
    short = move.target.commit[:12]
    if not yes:
        with task_edge():
            require_terminal(
                "No terminal to confirm on: pass --yes to move latest without asking. "
                "latest was not moved."
            )
            ask_for_name(
                short,
                f"Type {short} to point latest at its image: ",
                "latest was not moved",
            )
    with task_edge():
        move_latest(move)
    say(f"latest now points at {move.target.describe()}.")


def _promote(registry, root, sha: str) -> None:
    from hubops.adapters.git import is_ancestor, resolve_commit
    from hubops.bootstrap.registry import move_latest

    move = _planned_move(registry, sha)
    if move is None:
        return
    current = move.current.commit if move.current else None
    target = move.target.commit
    known = current and resolve_commit(root, current) and resolve_commit(root, target)
    if known and is_ancestor(root, target, current):
        say(
            f"latest stays at {current[:12]}: it is newer than {target[:12]} (a later push's "
            f"image). To go back on purpose: `invoke image rollback --to {target[:12]}`."
        )
        return
    with task_edge():
        move_latest(move)
    say(f"latest now points at {move.target.describe()}.")
    say(_REACH)


TASKS = [image]

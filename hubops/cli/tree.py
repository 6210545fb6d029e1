"""Tasks: validate (the OpenTofu tree, offline)."""

from pathlib import Path

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import refused, task_edge


@task(
    help={
        "path": "Check this folder instead of the repository's own tree",
        "commit": "Check what OpenTofu reads in this commit, not the working tree (pre-push)",
        "offline": "Only the offline checks, in about a second: leave the engine's fmt and "
        "validate to `nox -s validate` and CI (pre-push)",
    }
)
def validate(c, path=None, commit=None, offline=False):
    """Check the OpenTofu tree: syntax, cross-references, environment rules, then the engine.

    Every finding prints as `path:line: message` (paths relative to the checked folder) and the
    task exits 1; a clean tree prints one summary line. The engine's `fmt -check` and `validate`
    (per environment) run when OpenTofu (else Terraform, as a CLI-compatible engine) is
    installed, and are reported as skipped when neither is. When providers cannot be installed,
    each module under modules/ is validated on its own, and what could not be is named.
    """
    if commit:
        _validate_commit(commit, run_tofu=not offline)
        return
    from hubops.adapters.environment_files import parse_cache, project_root
    from hubops.facts.errors import HubopsError
    from hubops.tfcheck import validate_tree

    with task_edge():
        try:
            repo = project_root()
        except HubopsError:
            if not path:
                raise
            repo = None  # checking a folder from elsewhere: no cache to keep
    tree = Path(path).resolve() if path else repo
    if not tree.is_dir():
        raise refused(
            f"error: {path} is not a folder: give --path the folder holding the .tf files."
        )
    with task_edge():
        report = validate_tree(
            tree, cache_dir=parse_cache(repo) if repo else None, run_tofu=not offline
        )
    for finding in report.findings:
        say(str(finding))
    for line in report.skipped:
        say(line)
    if report.findings:
        raise refused(report.summary)
    say(report.summary)


def _validate_commit(commit: str, *, run_tofu: bool) -> None:
    """Export `commit`'s OpenTofu tree to a temporary folder and validate that."""
    import tempfile

    from hubops.adapters.engine_inputs import export_commit
    from hubops.adapters.environment_files import parse_cache, project_root
    from hubops.tfcheck import validate_tree

    with task_edge():
        repo = project_root()
    with tempfile.TemporaryDirectory(prefix="hubops-validate-") as folder:
        with task_edge():
            if export_commit(repo, commit, Path(folder)) == 0:
                say(f"No OpenTofu files in {commit}: nothing to validate.")
                return
            report = validate_tree(Path(folder), cache_dir=parse_cache(repo), run_tofu=run_tofu)
        for finding in report.findings:
            say(str(finding))
        for line in report.skipped:
            say(line)
        if report.findings:
            raise refused(f"{report.summary} (the tree of {commit})")
        say(f"{report.summary} (the tree of {commit})")


TASKS = [validate]

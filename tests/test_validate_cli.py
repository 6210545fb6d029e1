"""`invoke validate` as the operator runs it, and the parse cache behind it."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from hubops.adapters.hcl import Parser
from tests.support.invoking import run_invoke
from tests.support.tree_copy import REPO, copy_project_tree, line_of, set_value, write

SKIPPED = (
    "skipped: tofu fmt and tofu validate (no tofu or terraform on PATH; install OpenTofu from "
    "https://opentofu.org/docs/intro/install/ to run them)"
)


@pytest.fixture
def run_validate(tmp_path):
    """Run `invoke validate ARGS` from the repository root with no tofu anywhere on PATH."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in ("HUBOPS_TOFU_BIN", "HUBOPS_ROOT")}
    environ["PATH"] = str(empty)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return run_invoke("validate", *args, cwd=REPO, env={**environ, **extra_env})

    return run


def test_validate_on_a_correct_tree_prints_one_summary_line_and_says_tofu_was_skipped(
    tmp_path, run_validate
):
    tree = copy_project_tree(tmp_path / "tree")
    result = run_validate("--path", str(tree))
    assert result.returncode == 0, result.stdout + result.stderr
    skipped, summary = result.stdout.splitlines()
    assert skipped == SKIPPED
    assert re.fullmatch(
        rf"validate: OK \(\d+ files, \d+ modules, 3 environments in {re.escape(str(tree))}\)",
        summary,
    )


def test_validate_lists_every_finding_as_path_line_message_and_exits_1(tmp_path, run_validate):
    tree = copy_project_tree(tmp_path / "tree")
    auth = set_value(tree / "environments/cae/terraform.tfvars", "authentication", '"dummy"')
    extra = tree / "modules/hub/extra.tf"
    write(extra, "locals {\n  oops = var.not_declared\n}\n")
    result = run_validate("--path", str(tree))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f'environments/cae/terraform.tfvars:{auth}: authentication is "dummy", but cae needs '
        'authentication = "cognito" (rule "authentication per environment"): set authentication '
        '= "cognito"',
        f"modules/hub/extra.tf:{line_of(extra, 'var.not_declared')}: var.not_declared is not "
        'declared in modules/hub: add a variable "not_declared" block there, or fix the name',
        SKIPPED,
    ]
    assert re.fullmatch(
        rf"validate: 2 findings \(\d+ files, \d+ modules, 3 environments in "
        rf"{re.escape(str(tree))}\): fix them and run it again\n",
        result.stderr,
    )


def test_validate_rejects_a_path_that_is_not_a_folder(tmp_path, run_validate):
    result = run_validate("--path", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path / 'nowhere'} is not a folder: give --path the folder holding the .tf "
        "files.\n"
    )


def test_validate_fails_when_hubops_tofu_bin_is_not_an_executable(tmp_path, run_validate):
    tree = copy_project_tree(tmp_path / "tree")
    not_tofu = write(tmp_path / "not-tofu", "just text\n")
    result = run_validate("--path", str(tree), HUBOPS_TOFU_BIN=str(not_tofu))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: HUBOPS_TOFU_BIN={not_tofu} is not an executable file: point it at the tofu "
        "binary, or "
        "unset it to use `tofu` on PATH.\n"
    )


def test_parse_results_are_cached_by_content_and_parsed_again_when_a_file_changes(tmp_path):
    cache = tmp_path / "cache"
    path = write(tmp_path / "main.tf", "locals {\n  a = var.one\n}\n")
    first = Parser(cache)
    model = first.parse(path)
    assert (first.parsed, first.cached) == (1, 0)

    again = Parser(cache)
    assert again.parse(path) == model
    assert (again.parsed, again.cached) == (0, 1)

    write(path, "locals {\n  a = var.two\n}\n")
    changed = Parser(cache)
    assert [(r.root, r.name, r.line) for r in changed.parse(path).refs] == [("var", "two", 2)]
    assert (changed.parsed, changed.cached) == (1, 0)


def test_a_damaged_cache_entry_is_parsed_again(tmp_path):
    cache = tmp_path / "cache"
    path = write(tmp_path / "main.tf", "locals {\n  a = var.one\n}\n")
    model = Parser(cache).parse(path)
    (entry,) = cache.iterdir()
    entry.write_text("{not json")
    parser = Parser(cache)
    assert parser.parse(path) == model
    assert (parser.parsed, parser.cached) == (1, 0)

"""`invoke validate` through the real engine (Terraform or OpenTofu) and the aws provider mirror.

This machine's mirror holds hashicorp/aws only, so the root module (which also needs helm,
kubernetes and tls) cannot be initialised: each module under modules/ is validated on its own
instead, and what could not be validated is named with the providers it lacks.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from hubops.adapters.engine import Engine, identify
from hubops.adapters.engine_diagnostics import EngineError, parse_errors
from hubops.facts.text import shorten
from hubops.tfcheck import validate_tree
from hubops.tfcheck.tofu_checks import EngineReport
from tests.support.invoking import run_invoke
from tests.support.tree_copy import REPO, copy_project_tree, line_of, write

UNAVAILABLE = "which the engine could not install (no network or not in the mirror)"
AWS_ONLY = [
    "modules/budget",
    "modules/certificate",
    "modules/cognito",
    "modules/edge",
    "modules/encrypted-log-group",
    "modules/network",
    "modules/service-account-role",
]
NOT_VALIDATED = [
    "not validated: environments/cae-testing, environments/cae-dev, environments/cae, modules/eks, "
    "modules/hub, modules/load-balancer-controller, modules/user-directories (they need "
    f"hashicorp/helm, hashicorp/kubernetes, hashicorp/tls, {UNAVAILABLE})"
]


@pytest.fixture
def run_engine_validate(real_engine):
    """Run `invoke validate --path TREE` with the real engine and the mirror's providers only."""
    environ = {k: v for k, v in os.environ.items() if k not in ("HUBOPS_ROOT",)}
    environ.update(real_engine.environ())
    label = identify(real_engine.binary).label

    def run(tree) -> subprocess.CompletedProcess:
        return run_invoke("validate", "--path", str(tree), cwd=REPO, env=environ, timeout=600)

    run.label = label
    return run


def test_the_project_tree_validates_each_aws_only_module_and_names_what_it_could_not(
    tmp_path, run_engine_validate
):
    tree = copy_project_tree(tmp_path / "tree")

    result = run_engine_validate(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    *notes, summary = result.stdout.splitlines()
    label = run_engine_validate.label
    assert notes == [f"validated by {label}: {', '.join(AWS_ONLY)}", *NOT_VALIDATED]
    assert re.fullmatch(
        rf"validate: OK \(\d+ files, \d+ modules, 3 environments in {re.escape(str(tree))}\); "
        rf"{re.escape(label)} validated 7 of 11 modules on their own; 3 environments and 4 "
        r"modules not validated \(providers missing\)",
        summary,
    )
    assert result.stderr == ""
    # The tree is left as found: no dependency lock files; data lives under .hubops/tofu-data.
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob(".terraform.lock.hcl")) == []
    assert (tree / ".hubops/tofu-data/validate-modules-network").is_dir()


def test_errors_in_aws_only_modules_are_the_engines_findings_at_their_lines(
    tmp_path, run_engine_validate
):
    # Two broken modules in one tree (each engine run costs seconds): a type error, and the hub
    # module's old construct (`storage = cond ? { type = "none" } : { type = "static", static =
    # {...} }`, whose branches are objects of different shapes: HCL type-checks both). The hub
    # needs helm and kubernetes, which are not here, so the construct goes into an aws-only module.
    tree = copy_project_tree(tmp_path / "tree")
    main = tree / "modules/network/main.tf"
    main.write_text(
        main.read_text().replace("enable_dns_support   = true", 'enable_dns_support   = ["yes"]', 1)
    )
    extra = write(
        tree / "modules/cognito/storage.tf",
        "locals {\n"
        '  storage = var.name == "" ? { type = "none" } : {\n'
        '    type   = "static"\n'
        '    static = { subPath = "{username}" }\n'
        "  }\n"
        "}\n",
    )

    result = run_engine_validate(tree)

    assert result.returncode == 1
    label = run_engine_validate.label
    command = "tofu" if label.startswith("OpenTofu") else "terraform"
    validated = [m for m in AWS_ONLY if m not in ("modules/network", "modules/cognito")]
    assert result.stdout.splitlines() == [
        f"modules/cognito/storage.tf:{line_of(extra, 'storage =')}: {command} validate "
        "(modules/cognito): Inconsistent conditional result types: The true and false result "
        "expressions must have consistent types. The 'false' value includes object attribute "
        "\"static\", which is absent in the 'true' value.",
        f"modules/network/main.tf:{line_of(main, 'enable_dns_support')}: {command} validate "
        "(modules/network): Incorrect attribute value type: Inappropriate value for attribute "
        '"enable_dns_support": bool required.',
        f"validated by {label}: {', '.join(validated)}",
        *NOT_VALIDATED,
    ]
    assert re.fullmatch(
        rf"validate: 2 findings \(\d+ files, \d+ modules, 3 environments in "
        rf"{re.escape(str(tree))}\); {re.escape(label)} validated 5 of 11 modules on their own; "
        r"3 environments and 4 modules not validated \(providers missing\): fix them and run it "
        r"again\n",
        result.stderr,
    )


# -- the pieces, without an engine ---------------------------------------------------------------

# What Terraform 1.11 printed (-no-color) when its mirror lacked helm, and with no network.
NOT_IN_MIRROR = """\
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider
hashicorp/helm: provider registry.terraform.io/hashicorp/helm was not found
in any of the search locations

  - /opt/tf-plugins
"""
NO_NETWORK = """\
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
could not connect to registry.terraform.io: failed to request discovery
document: Get "https://registry.terraform.io/.well-known/terraform.json":
dial tcp: lookup registry.terraform.io on 10.255.255.53:53: no such host

To see which modules are currently depending on hashicorp/aws and what
versions are specified, run the following command:
    terraform providers
"""
NO_SUCH_VERSION = """\
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
no available releases match the given constraints 5.101.0
"""
UNREADABLE_MODULE = """\
Warning: Something to note

Just a warning.

Error: Unreadable module directory

The directory  could not be read for module "x" at main.tf:12.
"""


@pytest.mark.parametrize(
    ("output", "providers"),
    [
        (NOT_IN_MIRROR, ["hashicorp/helm"]),
        (NO_NETWORK, ["hashicorp/aws"]),
        (NOT_IN_MIRROR + "\n" + NO_NETWORK, ["hashicorp/helm", "hashicorp/aws"]),
        # A version no source offers, or a configuration error, is a finding, not "unavailable".
        (NO_SUCH_VERSION, [None]),
        (UNREADABLE_MODULE, [None]),
    ],
)
def test_only_a_provider_the_engine_cannot_reach_counts_as_unavailable(output, providers):
    assert [error.unavailable_provider for error in parse_errors(output)] == providers


# What Terraform 1.11 printed (-no-color) for a registry module with no network.
MODULE_OFFLINE = """\
Error: Error accessing remote module registry

  on main.tf line 1:
   1: module "vpc" {

Failed to retrieve available versions for module "vpc" (main.tf:1) from
registry.terraform.io: failed to request discovery document: Get
"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup
registry.terraform.io on 10.255.255.53:53: no such host.
"""


def test_a_registry_module_the_engine_cannot_reach_is_unavailable_not_a_defect():
    [error] = parse_errors(MODULE_OFFLINE)

    assert error.unavailable == 'module "vpc"'
    assert error.unavailable_provider is None
    assert [e.unavailable for e in parse_errors(UNREADABLE_MODULE)] == [None]


def test_engine_errors_are_read_as_summary_and_detail_warnings_left_out():
    assert parse_errors(UNREADABLE_MODULE) == [
        EngineError(
            "Unreadable module directory",
            'The directory could not be read for module "x" at main.tf:12.',
        )
    ]
    assert parse_errors("│ Error: Boxed\n│ \n│ The detail.\n╵\n") == [
        EngineError("Boxed", "The detail.")
    ]


def test_what_the_engine_could_not_validate_is_one_line_after_what_it_did():
    engine = Engine("/usr/bin/terraform", "Terraform", "1.11.4")
    report = EngineReport(
        validated=["modules/network"],
        not_validated={
            "environments/cae": ["hashicorp/helm", "hashicorp/tls"],
            "modules/hub": ["hashicorp/kubernetes", "hashicorp/helm"],
        },
        modules_tried=2,
    )

    assert report.notes(engine) == [
        "validated by Terraform 1.11.4 (CLI-compatible): modules/network",
        "not validated: environments/cae, modules/hub (they need hashicorp/helm, "
        f"hashicorp/kubernetes, hashicorp/tls, {UNAVAILABLE})",
    ]
    assert report.summary(engine) == (
        "Terraform 1.11.4 (CLI-compatible) validated 1 of 2 modules on their own; 1 environment "
        "and 1 module not validated (providers missing)"
    )


def test_an_engine_that_validated_nothing_is_said_not_to_have_run_with_how_to_fix_it(
    monkeypatch, tmp_path
):
    engine = Engine("/usr/bin/terraform", "Terraform", "1.11.4")
    report = EngineReport(
        not_validated={f"modules/m{n}": ["hashicorp/aws"] for n in range(9)}, modules_tried=9
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.tfrc"))

    assert report.summary(engine) == (
        "the engine's fmt ran, its validate did not: Terraform 1.11.4 (CLI-compatible) could not "
        "install the providers of any module or environment; supply them, e.g. `terraform "
        "providers mirror DIR` on a machine with network, then a `provider_installation { "
        'filesystem_mirror { path = "DIR" } }` block in the CLI configuration '
        "(TF_CLI_CONFIG_FILE) or TF_PLUGIN_CACHE_DIR holding them (TF_CLI_CONFIG_FILE="
        f"{tmp_path / 'missing.tfrc'} names no file: the engine ran without it)"
    )


@pytest.mark.parametrize(
    ("text", "limit", "keep_end", "expected"),
    [
        ("the quick brown fox jumps", 25, False, "the quick brown fox jumps"),
        ("the quick brown fox jumps", 15, False, "the quick ..."),
        ("the quick brown fox jumps", 15, True, "... fox jumps"),
        ("the quick brown\n  fox   jumps", 17, False, "the quick ..."),
        ("the quick brown fox jumps", 19, False, "the quick brown ..."),
        ("the quick brown fox jumps", 20, True, "... brown fox jumps"),
        ("supercalifragilistic", 10, False, "superc ..."),
    ],
)
def test_text_is_shortened_at_word_boundaries_never_mid_word(text, limit, keep_end, expected):
    shortened = shorten(text, limit, keep_end=keep_end)
    assert shortened == expected
    assert len(shortened) <= limit


def test_with_opentofu_each_environment_is_validated_with_its_own_values(tmp_path, fake_tofu):
    tree = copy_project_tree(tmp_path / "tree")
    fake_tofu.scenario(
        {
            "version": "1.10.3",
            "validate": {
                "diagnostics": [
                    {
                        "summary": "Unsupported argument",
                        "detail": 'An argument named "nope" is not expected here.',
                        "range": {"filename": "main.tf", "start": {"line": 7, "column": 3}},
                    }
                ]
            },
        }
    )

    report = validate_tree(tree, run_tofu=True)

    assert [str(f) for f in report.findings] == [
        "main.tf:7: tofu validate (cae-testing, cae-dev, cae): Unsupported argument: An argument "
        'named "nope" is not expected here.'
    ]
    assert report.skipped == []
    assert report.engine == "OpenTofu 1.10.3 validated nothing"
    assert [call for call in fake_tofu.calls() if call[0] in ("init", "validate")] == [
        ["init", "-backend=false", "-input=false", "-no-color"],
        ["validate", "-json", "-no-color", "-var-file=environments/cae-testing/terraform.tfvars"],
        *(
            [
                "validate",
                "-json",
                "-no-color",
                f"-var-file=environments/{env}/terraform.tfvars",
                f"-var-file=environments/{env}/promotion.tfvars",
            ]
            for env in ("cae-dev", "cae")
        ),  # fmt: skip
    ]


def test_with_opentofu_a_clean_tree_names_each_validated_environment(tmp_path, fake_tofu):
    tree = copy_project_tree(tmp_path / "tree")
    fake_tofu.scenario({"version": "1.10.3"})

    report = validate_tree(tree, run_tofu=True)

    assert report.findings == []
    assert report.skipped == [
        "validated by OpenTofu 1.10.3: environments/cae-testing, environments/cae-dev, "
        "environments/cae"
    ]
    assert report.summary.endswith("; OpenTofu 1.10.3 validated 3 environments")
    assert not (tree / ".terraform.lock.hcl").exists()

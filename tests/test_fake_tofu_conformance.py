"""The fake tofu's JSON has the shape of real OpenTofu output.

Held against OpenTofu's own recorded outputs in ../shared/fixtures/tofu/ (read at run time, never
copied; SOURCES.md there says where each comes from and how the goldens were trimmed), and
against the real engine (OpenTofu, or Terraform as a CLI-compatible one) where it and the AWS
provider's mirror are installed (tests/support/engine.py). For each plan the fake is given the
same changes as a scenario; what is compared is the document the fake builds around them: which
keys exist, where, and with which JSON types, in both directions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.samples import sample_text

# SOURCES.md: the equivalence-test goldens had these removed; real output has them.
REMOVED_FROM_GOLDENS = {"terraform_version", "timestamp"}
# What the fake does not model, each for a stated reason (regexes over the JSON path):
NOT_MODELLED = [
    r"\.expressions?$",  # expressions come from .tf files, which the fake does not read
    r"^\$\.configuration\.root_module\.variables$",  # variable declarations: the same
    r"\.depends_on$",  # dependencies between resources come from the configuration
    r"^\$\.configuration\..*\.(description|provisioners)$",  # the same (the real engine's plan)
    r"^\$\.variables\.[^.]+\.value$",  # -var-file values are flat scalars in this project
    # the fake infers an output's type from its value (a tuple, where OpenTofu knows a list)
    r"(^\$|\.outputs)\.[^.]+\.type$",
    r"^\$\.output_changes\.[^.]+\.(after|before)$",  # values come from the scenario itself
    r"\.diagnostic\.(range|snippet)$",  # where in the .tf files an error is: the same
]


def not_modelled(path: str) -> bool:
    return any(re.search(pattern, path) for pattern in NOT_MODELLED)


def shape_problems(sample, fake, path: str = "$") -> list[str]:
    """Where FAKE's keys or JSON types differ from SAMPLE's, recursively."""
    if not_modelled(path):
        return []
    if isinstance(sample, dict):
        if not isinstance(fake, dict):
            return [f"{path}: an object in the sample, {type(fake).__name__} in the fake"]
        problems = [
            f"{path}.{key}: missing from the fake"
            for key in sample
            if key not in fake and not not_modelled(f"{path}.{key}")
        ]
        problems += [
            f"{path}.{key}: not in the sample"
            for key in fake
            if key not in sample and key not in REMOVED_FROM_GOLDENS
        ]
        for key in sample.keys() & fake.keys():
            problems += shape_problems(sample[key], fake[key], f"{path}.{key}")
        return problems
    if isinstance(sample, list):
        if not isinstance(fake, list):
            return [f"{path}: a list in the sample, {type(fake).__name__} in the fake"]
        if len(sample) != len(fake):
            return [f"{path}: {len(sample)} items in the sample, {len(fake)} in the fake"]
        pairs = enumerate(zip(sample, fake, strict=True))
        return [p for i, (s, f) in pairs for p in shape_problems(s, f, f"{path}[{i}]")]
    if sample is None or fake is None:
        return [] if sample is fake else [f"{path}: {sample!r} in the sample, {fake!r} in the fake"]
    if type(sample) is not type(fake) and not {type(sample), type(fake)} <= {int, float}:
        return [f"{path}: {type(sample).__name__} in the sample, {type(fake).__name__} in the fake"]
    return []


def sample(name: str):
    return json.loads(sample_text(name))


def scenario_like(plan: dict) -> dict:
    """A fake-tofu scenario holding the same changes, outputs and providers as a real plan."""

    def change(rc: dict) -> dict:
        c = rc["change"]
        keys = ("before", "after", "after_unknown", "before_sensitive", "after_sensitive")
        entry = {"address": rc["address"], "actions": c["actions"], **{k: c[k] for k in keys}}
        if "replace_paths" in c:
            entry["replace_paths"] = c["replace_paths"]
        if "action_reason" in rc:
            entry["action_reason"] = rc["action_reason"]
        return entry

    prior = plan.get("prior_state", {}).get("values", {}).get("outputs", {})
    planned = plan["planned_values"].get("outputs", {})
    providers = plan["configuration"].get("provider_config", {})
    # A null output is in neither the prior state nor (with a value) in planned_values.
    changes = plan.get("output_changes", {})
    null = {name for name, c in changes.items() if "after" in c and c["after"] is None}
    return {
        "outputs": {name: o["value"] for name, o in prior.items()},
        "null_outputs": sorted(null),
        "plan": {
            "resource_changes": [change(rc) for rc in plan.get("resource_changes", [])],
            "resource_drift": [change(rc) for rc in plan.get("resource_drift", [])],
            "relevant_attributes": plan.get("relevant_attributes", []),
            "outputs": {name: o["value"] for name, o in planned.items() if "value" in o},
            # an output known only after the apply has no value in planned_values
            "unknown_outputs": sorted(
                name for name, o in planned.items() if "value" not in o and name not in null
            ),
            "providers": {
                key: p["version_constraint"]
                for key, p in providers.items()
                if "version_constraint" in p  # not always there (Terraform 1.11 leaves it out)
            },
        },
    }


def run(fake_tofu, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **fake_tofu.env, "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(
        ["tofu", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode in (0, 2), result.stderr
    return result


def fake_show_json(fake_tofu, tmp_path: Path, scenario: dict, variables: dict) -> dict:
    fake_tofu.scenario(scenario)
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "conformance.tfstate"\n')
    (tmp_path / "vars.tfvars").write_text("".join(f'{name} = "value"\n' for name in variables))
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")
    run(fake_tofu, tmp_path, "plan", "-input=false", "-var-file=vars.tfvars", "-out=plan.bin")
    return json.loads(run(fake_tofu, tmp_path, "show", "-json", "plan.bin").stdout)


@pytest.mark.parametrize(
    "name",
    [
        "plan-create.json",
        "plan-replace.json",
        "plan-update-in-place-with-drift.json",
        "plan-output-changes.json",
    ],
)
def test_fake_show_json_has_the_shape_of_opentofus_plan(name, fake_tofu, tmp_path):
    real = sample(name)
    fake = fake_show_json(fake_tofu, tmp_path, scenario_like(real), real.get("variables", {}))

    assert shape_problems(real, fake) == []


def test_fake_plan_json_for_a_module_resource_carries_module_address(fake_tofu, tmp_path):
    # The samples hold root resources only; jsonplan sets module_address for module ones.
    replacement = {"address": "module.eks.aws_eks_node_group.main", "actions": ["delete", "create"]}
    scenario = {"plan": {"resource_changes": [replacement]}}
    fake = fake_show_json(fake_tofu, tmp_path, scenario, {})

    (change,) = fake["resource_changes"]
    assert change["module_address"] == "module.eks"
    assert change["action_reason"] == "replace_because_cannot_update"
    assert fake["planned_values"]["root_module"]["child_modules"][0]["address"] == "module.eks"


def test_fake_output_json_has_the_shape_of_opentofus_outputs(fake_tofu, tmp_path):
    # apply-ui-outputs.json: the `outputs` message has the shape `tofu output -json` prints.
    (message,) = [m for m in sample("apply-ui-outputs.json") if m["type"] == "outputs"]
    real = message["outputs"]
    fake_tofu.scenario({"outputs": {name: o["value"] for name, o in real.items()}})
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "outputs.tfstate"\n')
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")

    fake = json.loads(run(fake_tofu, tmp_path, "output", "-json").stdout)

    assert shape_problems(real, fake) == []


def test_fake_validate_json_has_the_shape_of_opentofus_validate(fake_tofu, tmp_path):
    real = sample("validate-invalid.json")
    fake_tofu.scenario({"validate": {"diagnostics": real["diagnostics"]}})
    run(fake_tofu, tmp_path, "init", "-backend=false")

    result = run(fake_tofu, tmp_path, "validate", "-json", check=False)

    assert result.returncode == 1
    assert shape_problems(real, json.loads(result.stdout)) == []


# Terraform (accepted as a CLI-compatible engine) has these in its plan JSON; OpenTofu has not
# (docs/fake-tofu.md), and the fake follows OpenTofu.
TERRAFORM_ONLY = {"applyable", "complete"}


def format_family(version: str) -> str:
    return version.split(".")[0]


def is_terraform(binary: str) -> bool:
    said = subprocess.run([binary, "version"], capture_output=True, text=True, check=True)
    return said.stdout.startswith("Terraform ")


def test_fake_show_json_has_the_shape_of_the_real_engines_plan(engine_hub, fake_tofu, tmp_path):
    # The engine's own plan for tests/engine_fixture/ against moto: the hub's load balancer
    # replaced (a variable forces it), over a state the engine applied itself.
    engine_hub.commit_vars("The load balancer, second generation", load_balancer_generation="2")
    real = engine_hub.own_plan_json()
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()

    fake = fake_show_json(fake_tofu, fake_dir, scenario_like(real), real.get("variables", {}))

    assert format_family(fake["format_version"]) == format_family(real["format_version"])
    if is_terraform(engine_hub.real_engine.binary):
        real = {k: v for k, v in real.items() if k not in TERRAFORM_ONLY}
    assert shape_problems(real, fake) == []


# -- the machine-readable UI of `apply -json` ---------------------------------------------------

# SOURCES.md: the equivalence-test goldens (apply-ui-*.json) lost these; real messages have them.
REMOVED_FROM_UI_GOLDENS = {"@timestamp", "@module"}
# Messages the fake does not send: provisioners come from .tf files, which it does not read.
UI_NOT_MODELLED = {
    "provision_start",
    "provision_progress",
    "provision_complete",
    "provision_errored",
}
_ID = re.compile(r"\[id=[^\]]*\]")


def ui_messages(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sample_messages(name: str) -> list[dict]:
    text = sample_text(name)
    return json.loads(text) if name.endswith(".json") else ui_messages(text)


def fake_apply_json(fake_tofu, tmp_path: Path, scenario: dict) -> subprocess.CompletedProcess:
    fake_tofu.scenario(scenario)
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "apply.tfstate"\n')
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")
    run(fake_tofu, tmp_path, "plan", "-input=false", "-out=plan.bin")
    return run(fake_tofu, tmp_path, "apply", "-input=false", "-json", "plan.bin", check=False)


def kind_of(message: dict) -> tuple:
    """A message's type, and for a hook or a planned change, its action."""
    part = message.get("hook") or message.get("change") or {}
    return message["type"], part.get("action")


def ui_problems(samples: list[dict], fakes: list[dict], allowed_extra=frozenset()) -> list[str]:
    """Message by message, of the kinds the sample holds: the same kinds in the same order, the
    same keys with the same JSON types, and the same words (resource ids aside)."""
    kinds = {kind_of(m) for m in samples}
    fakes = [m for m in fakes if kind_of(m) in kinds]
    if [kind_of(m) for m in samples] != [kind_of(m) for m in fakes]:
        return [
            f"kinds differ: {[kind_of(m) for m in samples]} in the sample, "
            f"{[kind_of(m) for m in fakes]} in the fake"
        ]
    problems = []
    for index, (real, fake) in enumerate(zip(samples, fakes, strict=True)):
        fake = {k: v for k, v in fake.items() if k in real or k not in REMOVED_FROM_UI_GOLDENS}
        where = f"$[{index}]"
        problems += [
            p for p in shape_problems(real, fake, where) if p.split(":")[0] not in allowed_extra
        ]
        if real["type"] != "version" and _ID.sub("[id]", real["@message"]) != _ID.sub(
            "[id]", fake["@message"]
        ):
            problems.append(f"{where}: says {fake['@message']!r}, not {real['@message']!r}")
    return problems


def test_fake_apply_json_speaks_like_opentofus_docs_sample(fake_tofu, tmp_path):
    real = sample_messages("ui-apply-docs-sample.jsonl")
    # The sample applies without a saved plan, so it also holds the plan's own change_summary;
    # applying a saved plan (all this project does), the engine restates its changes only.
    real = [m for m in real if m.get("changes", {}).get("operation") != "plan"]
    scenario = {
        "plan": {
            "resource_changes": [{"address": "random_pet.animal", "actions": ["create"]}],
            "outputs": {"pets": "smart-lizard"},
        }
    }

    result = fake_apply_json(fake_tofu, tmp_path, scenario)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    # SOURCES.md: the docs' change_summary predates import/forget, which OpenTofu always prints.
    outdated = {"$[4].changes.import", "$[4].changes.forget"}
    assert ui_problems(real, ui_messages(result.stdout), outdated) == []


def test_fake_apply_json_replaces_like_opentofus_golden(fake_tofu, tmp_path):
    real = sample_messages("apply-ui-replace.json")
    replacement = {"address": "tfcoremock_object.object", "actions": ["delete", "create"]}

    result = fake_apply_json(fake_tofu, tmp_path, {"plan": {"resource_changes": [replacement]}})

    assert result.returncode == 0, result.stdout + result.stderr
    assert ui_problems(real, ui_messages(result.stdout)) == []


def test_fake_apply_json_fails_like_opentofus_errored_sample(fake_tofu, tmp_path):
    # Recorded from Terraform 1.3.7 (SOURCES.md): its version line names Terraform, and its
    # provisioner messages come from .tf files; the rest is OpenTofu's shape too.
    real = [
        m
        for m in sample_messages("ui-apply-errored.jsonl")
        if m["type"] != "version" and m["type"] not in UI_NOT_MODELLED
    ]
    [error] = [m["diagnostic"] for m in real if m["type"] == "diagnostic"]
    scenario = {
        "plan": {
            "resource_changes": [{"address": "null_resource.foo", "actions": ["delete", "create"]}]
        },
        "apply": {"fail": {k: error[k] for k in ("summary", "detail", "address")}},
    }

    result = fake_apply_json(fake_tofu, tmp_path, scenario)

    assert result.returncode == 1
    assert result.stderr == ""  # in -json mode the error is a message on stdout
    fake = ui_messages(result.stdout)
    assert fake[0]["type"] == "version" and fake[0]["tofu"] == fake[0]["@message"].split()[-1]
    assert ui_problems(real, fake) == []


def test_fake_apply_json_reports_a_held_lock_as_a_diagnostic(fake_tofu, tmp_path):
    scenario = {
        "plan": {"resource_changes": [{"address": "aws_elb.hub", "actions": ["update"]}]},
        "lock": {"id": "1020a40c-9b49-b43c-c0c9-53fd82936ed2", "who": "root@vm"},
    }
    fake_tofu.scenario({"plan": scenario["plan"]})
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "lock.tfstate"\n')
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")
    run(fake_tofu, tmp_path, "plan", "-input=false", "-out=plan.bin")
    fake_tofu.scenario(scenario)

    result = run(fake_tofu, tmp_path, "apply", "-json", "plan.bin", check=False)

    assert result.returncode == 1
    assert result.stderr == ""
    version, lock = ui_messages(result.stdout)
    assert version["type"] == "version"
    assert lock["type"] == "diagnostic" and lock["@level"] == "error"
    assert lock["diagnostic"]["summary"] == "Error acquiring the state lock"
    assert "  ID:        1020a40c-9b49-b43c-c0c9-53fd82936ed2\n" in lock["diagnostic"]["detail"]


def test_fake_apply_json_has_the_shape_of_the_real_engines_apply(engine_hub, fake_tofu, tmp_path):
    # The engine's own `apply -json` of its own saved plan: the hub's load balancer replaced.
    engine_hub.commit_vars("The load balancer, second generation", load_balancer_generation="2")
    plan = engine_hub.own_plan_json()
    applied = engine_hub.engine(
        "apply", "-input=false", "-json", str(engine_hub.work / "own.tfplan"), data_dir="own-plan"
    )
    real = ui_messages(applied.stdout)
    terraform = is_terraform(engine_hub.real_engine.binary)
    if terraform:  # its version line names itself
        real = [
            {("tofu" if k == "terraform" else k): v for k, v in m.items()}
            if m["type"] == "version"
            else m
            for m in real
        ]
    scenario = scenario_like(plan)
    [outputs] = [m["outputs"] for m in real if m["type"] == "outputs"]
    took = {
        m["hook"]["resource"]["addr"]: m["hook"]["elapsed_seconds"]
        for m in real
        if m["type"] == "apply_complete"
    }
    scenario["apply"] = {
        "outputs": {name: o["value"] for name, o in outputs.items()},
        "elapsed_seconds": took,
    }
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()

    result = fake_apply_json(fake_tofu, fake_dir, scenario)

    assert result.returncode == 0, result.stdout + result.stderr
    fake = ui_messages(result.stdout)
    assert {kind_of(m) for m in real} <= {kind_of(m) for m in fake} | {
        ("apply_progress", "delete"),
        ("apply_progress", "create"),
    }
    for kind in {kind_of(m) for m in real}:
        first_real = next(m for m in real if kind_of(m) == kind)
        first_fake = next((m for m in fake if kind_of(m) == kind), None)
        if first_fake is not None:
            problems = shape_problems(first_real, first_fake, kind[0])
            if terraform:  # OpenTofu's `forget` blocks: no such count in Terraform's summary
                problems = [
                    p for p in problems if not p.startswith("change_summary.changes.forget")
                ]
            assert problems == []

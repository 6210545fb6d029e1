"""The fake tofu behaves like OpenTofu where the production code depends on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

REPLACE_NODE_GROUP = {
    "address": "module.eks.aws_eks_node_group.main",
    "actions": ["delete", "create"],
}


@pytest.fixture
def workdir(tmp_path, fake_tofu):
    """A working folder with one environment's backend.hcl and tfvars, as the project keeps."""
    (tmp_path / "backend.hcl").write_text(
        'bucket       = "cae-tofu-state"\nkey          = "cae/terraform.tfstate"\n'
        'region       = "us-west-2"\nuse_lockfile = true\n'
    )
    (tmp_path / "terraform.tfvars").write_text(
        'cluster_name  = "cae"\nhub_namespace = "jupyterhub"\naws_region    = "us-west-2"\n'
    )
    return tmp_path


def tofu(fake_tofu, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["tofu", *args],
        cwd=cwd,
        env={**os.environ, **fake_tofu.env, "TF_IN_AUTOMATION": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def init(fake_tofu, cwd: Path) -> None:
    result = tofu(
        fake_tofu, cwd, "init", "-input=false", "-reconfigure", "-backend-config=backend.hcl"
    )
    assert result.returncode == 0, result.stderr


def plan(fake_tofu, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    return tofu(
        fake_tofu,
        cwd,
        "plan",
        "-input=false",
        "-lock-timeout=0s",
        "-var-file=terraform.tfvars",
        "-out=plan.bin",
        "-detailed-exitcode",
        *extra,
    )


def test_version_json_keeps_the_terraform_version_key(fake_tofu, workdir):
    fake_tofu.scenario({"version": "1.10.3"})

    result = tofu(fake_tofu, workdir, "version", "-json")

    assert json.loads(result.stdout) == {
        "terraform_version": "1.10.3",
        "platform": "linux_amd64",
        "provider_selections": {},
    }


def test_plan_fails_when_the_data_directory_was_never_initialised(fake_tofu, workdir):
    result = plan(fake_tofu, workdir)

    assert result.returncode == 1
    # internal/command/meta_backend.go: the summary and the start of errBackendInit
    assert result.stderr.startswith(
        '╷\n│ Error: Backend initialization required, please run "tofu init"\n│\n'
        '│ Reason: Initial configuration of the requested backend "s3"\n'
    )
    assert not (workdir / "plan.bin").exists()


def test_init_records_the_backend_config_in_tf_data_dir(fake_tofu, workdir):
    data_dir = workdir / "data" / "cae"

    result = tofu(
        fake_tofu,
        workdir,
        "init",
        "-input=false",
        "-reconfigure",
        "-backend-config=backend.hcl",
        TF_DATA_DIR=str(data_dir),
    )

    assert "OpenTofu has been successfully initialized!" in result.stdout
    assert fake_tofu.initialised_backend(data_dir) == {
        "bucket": "cae-tofu-state",
        "key": "cae/terraform.tfstate",
        "region": "us-west-2",
        "use_lockfile": True,
    }


def test_init_refuses_a_changed_backend_without_reconfigure(fake_tofu, workdir):
    init(fake_tofu, workdir)
    (workdir / "other.hcl").write_text('bucket = "other"\nkey = "other.tfstate"\n')

    result = tofu(fake_tofu, workdir, "init", "-input=false", "-backend-config=other.hcl")

    assert result.returncode == 1
    assert "│ Error: Backend configuration changed\n" in result.stderr


def test_plan_with_a_held_lock_prints_opentofus_lock_error_with_lock_info(fake_tofu, workdir):
    init(fake_tofu, workdir)
    fake_tofu.scenario(
        {
            "lock": {
                "id": "4f0e-lock",
                "who": "ana@laptop",
                "version": "1.10.5",
                "created": "2025-05-01 09:00:00.000000000 +0000 UTC",
            }
        }
    )

    result = plan(fake_tofu, workdir)

    assert result.returncode == 1
    # clistate/state.go (LockErrorMessage) and statemgr/locker.go (LockInfo.String)
    assert (
        "│ Lock Info:\n"
        "│   ID:        4f0e-lock\n"
        "│   Path:      cae-tofu-state/cae/terraform.tfstate\n"
        "│   Operation: OperationTypePlan\n"
        "│   Who:       ana@laptop\n"
        "│   Version:   1.10.5\n"
        "│   Created:   2025-05-01 09:00:00.000000000 +0000 UTC\n"
        "│   Info:      \n"
    ) in result.stderr
    assert result.stderr.startswith("╷\n│ Error: Error acquiring the state lock\n│\n")
    assert "│ OpenTofu acquires a state lock to protect the state from being written\n" in (
        result.stderr
    )


def test_plan_detailed_exitcode_is_2_with_changes_and_0_without(fake_tofu, workdir):
    init(fake_tofu, workdir)
    assert plan(fake_tofu, workdir).returncode == 0
    fake_tofu.scenario({"plan": {"resource_changes": [REPLACE_NODE_GROUP]}})

    result = plan(fake_tofu, workdir)

    assert result.returncode == 2
    assert "  # module.eks.aws_eks_node_group.main must be replaced\n" in result.stdout
    assert "\x1b[0m\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 1 to destroy.\n" in result.stdout


def test_plan_is_coloured_even_into_a_pipe_unless_no_color(fake_tofu, workdir):
    init(fake_tofu, workdir)
    fake_tofu.scenario({"plan": {"resource_changes": [REPLACE_NODE_GROUP]}})

    result = plan(fake_tofu, workdir, "-no-color")

    assert result.returncode == 2, result.stderr
    assert "\nPlan: 1 to add, 0 to change, 1 to destroy.\n" in result.stdout
    assert "\x1b" not in result.stdout


def test_show_fails_like_opentofu_when_the_plan_file_is_missing(fake_tofu, workdir):
    result = tofu(fake_tofu, workdir, "show", "-json", "missing.bin")

    assert result.returncode == 1
    assert "│ Error: Failed to read the given file as a state or plan file\n" in result.stderr


def test_apply_prints_progress_and_the_summary_line(fake_tofu, workdir):
    init(fake_tofu, workdir)
    fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": "a.elb.amazonaws.com"},
            "plan": {"resource_changes": [REPLACE_NODE_GROUP]},
        }
    )
    plan(fake_tofu, workdir)

    result = tofu(fake_tofu, workdir, "apply", "-input=false", "-lock-timeout=0s", "plan.bin")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("module.eks.aws_eks_node_group.main: Destroying... [id=")
    assert lines[2] == "module.eks.aws_eks_node_group.main: Creating..."
    assert "Apply complete! Resources: 1 added, 0 changed, 1 destroyed." in lines


def test_applying_the_same_plan_twice_fails_as_stale(fake_tofu, workdir):
    init(fake_tofu, workdir)
    fake_tofu.scenario({"plan": {"resource_changes": [REPLACE_NODE_GROUP]}})
    plan(fake_tofu, workdir)
    assert tofu(fake_tofu, workdir, "apply", "plan.bin").returncode == 0

    result = tofu(fake_tofu, workdir, "apply", "plan.bin")

    assert result.returncode == 1
    assert "│ Error: Saved plan is stale\n" in result.stderr


def test_apply_failure_prints_an_error_box_naming_the_resource(fake_tofu, workdir):
    init(fake_tofu, workdir)
    fake_tofu.scenario(
        {
            "plan": {"resource_changes": [REPLACE_NODE_GROUP]},
            "apply": {
                "fail": {
                    "summary": "waiting for EKS Node Group create: timeout",
                    "address": REPLACE_NODE_GROUP["address"],
                }
            },
        }
    )
    plan(fake_tofu, workdir)

    result = tofu(fake_tofu, workdir, "apply", "plan.bin")

    assert result.returncode == 1
    assert result.stderr == (
        "╷\n│ Error: waiting for EKS Node Group create: timeout\n│\n"
        "│   with module.eks.aws_eks_node_group.main,\n╵\n"
    )
    assert "Apply complete!" not in result.stdout


def start_interrupted_apply(fake_tofu, workdir) -> subprocess.Popen:
    init(fake_tofu, workdir)
    fake_tofu.scenario(
        {
            "plan": {"resource_changes": [REPLACE_NODE_GROUP]},
            "apply": {"interrupt": {"grace_seconds": 1}},
        }
    )
    plan(fake_tofu, workdir)
    process = subprocess.Popen(
        ["tofu", "apply", "-input=false", "plan.bin"],
        cwd=workdir,
        env={**os.environ, **fake_tofu.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The fake waits for the signal once it has started the first change.
    assert "Destroying..." in process.stdout.readline()
    return process


def test_an_interrupted_apply_prints_opentofus_interrupt_text_and_exits_1(fake_tofu, workdir):
    process = start_interrupted_apply(fake_tofu, workdir)

    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 1
    # internal/command/views/operation.go (interrupted)
    assert (
        "Interrupt received.\nPlease wait for OpenTofu to exit or data loss may occur.\n"
        "Gracefully shutting down...\n"
    ) in stdout
    assert fake_tofu.log()[-1]["signals"] == ["SIGINT"]


def test_a_second_interrupt_is_recorded_and_exits_at_once(fake_tofu, workdir):
    process = start_interrupted_apply(fake_tofu, workdir)

    process.send_signal(signal.SIGINT)
    assert process.stdout.readline() == "\n"  # the interrupt text has begun: the first arrived
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "Two interrupts received. Exiting immediately." in stderr
    assert fake_tofu.log()[-1]["signals"] == ["SIGINT", "SIGINT"]


def test_the_log_records_arguments_folder_and_tofu_environment(fake_tofu, workdir):
    init(fake_tofu, workdir)

    (record,) = fake_tofu.log()

    assert fake_tofu.calls() == [
        ["init", "-input=false", "-reconfigure", "-backend-config=backend.hcl"]
    ]
    assert record["cwd"] == str(workdir)
    assert record["env"] == {
        "TF_DATA_DIR": None, "TF_IN_AUTOMATION": "1", "TF_INPUT": None,
        "TF_CLI_CONFIG_FILE": os.environ.get("TF_CLI_CONFIG_FILE"),
    }  # fmt: skip
    assert record["exit_code"] == 0


def test_an_unknown_command_fails_like_opentofu(fake_tofu, workdir):
    result = tofu(fake_tofu, workdir, "plna")

    assert result.returncode == 1
    assert result.stderr.startswith('OpenTofu has no command named "plna". Did you mean "plan"?')


def test_an_unknown_flag_fails_like_opentofu(fake_tofu, workdir):
    result = tofu(fake_tofu, workdir, "plan", "-var-files=terraform.tfvars")

    assert result.returncode == 1
    assert result.stderr == (
        "╷\n│ Error: Failed to parse command-line flags\n│\n"
        "│ flag provided but not defined: -var-files\n╵\n\n"
        "For more help on using this command, run:\n  tofu plan -help\n"
    )


def test_plan_fails_when_the_var_file_is_missing(fake_tofu, workdir):
    init(fake_tofu, workdir)

    result = tofu(fake_tofu, workdir, "plan", "-var-file=nowhere.tfvars")

    assert result.returncode == 1
    assert "│ Given variables file nowhere.tfvars does not exist.\n" in result.stderr


def test_fmt_check_lists_unformatted_files_and_exits_3(fake_tofu, workdir):
    fake_tofu.scenario({"fmt": {"unformatted": ["main.tf", "modules/eks/main.tf"]}})

    result = tofu(fake_tofu, workdir, "fmt", "-check", "-recursive")

    assert (result.returncode, result.stdout) == (3, "main.tf\nmodules/eks/main.tf\n")


def test_replacing_the_hub_load_balancer_changes_aws_and_the_output(fake_tofu, workdir, aws_env):
    from tests.support import aws_world

    where = {"cluster_name": "cae", "hub_namespace": "jupyterhub", "region": "us-west-2"}
    old = aws_world.create_hub_load_balancer(**where)
    init(fake_tofu, workdir)
    fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": old},
            "plan": {"resource_changes": [REPLACE_NODE_GROUP]},
            "apply": {"effects": [{"replace_hub_load_balancer": {}}]},
        }
    )
    plan(fake_tofu, workdir)

    result = tofu(fake_tofu, workdir, "apply", "plan.bin")

    assert result.returncode == 0, result.stderr
    (new,) = aws_world.hub_load_balancer_hostnames(**where)
    assert new != old
    outputs = json.loads(tofu(fake_tofu, workdir, "output", "-json").stdout)
    assert outputs == {
        "hub_load_balancer_hostname": {"sensitive": False, "type": "string", "value": new}
    }
    assert fake_tofu.log()[-2]["effects"] == ["replace_hub_load_balancer"]


def test_a_scenario_key_the_fake_does_not_know_fails_the_call(fake_tofu, workdir):
    fake_tofu.scenario({"plan": {"lock_held": True}})

    result = tofu(fake_tofu, workdir, "version")

    assert result.returncode == 1
    assert result.stderr.startswith("fake tofu: scenario: unknown key plan.lock_held; known: ")

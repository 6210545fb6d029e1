"""Production's guard rests on facts: its state, the exact plan shown, a record that is never lost.

Each test reproduces a way production was changed, destroyed or misrecorded before, as an
attacker or a hurried operator would, against moto's server, the loopback DNS server and the fake
tofu, and shows it refused (or recorded) now.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from tests.support.invoking import invoke_command
from tests.support.running import Running

EFS = "module.user_directories[0].aws_efs_file_system.home"
USER_POOL = "module.cognito[0].aws_cognito_user_pool.this"
DATA_LOSS = [
    {"address": EFS, "actions": ["delete"]},
    {"address": USER_POOL, "actions": ["delete", "create"]},
]


def commit_and_push(repo, message: str) -> None:
    repo.commit(message)
    repo.push()


def tofu_verbs(hub) -> list[str]:
    return [call[0] for call in hub.fake_tofu.calls() if call[0] != "version"]


def wait_for_call(hub, verb: str, timeout: float = 60, *, ended: bool = False) -> None:
    """Until `tofu VERB` has started (or, with `ended`, finished: its files read)."""
    deadline = time.monotonic() + timeout
    while not any(
        call["argv"][0] == verb and (not ended or call["exit_code"] is not None)
        for call in hub.fake_tofu.log()
    ):
        assert time.monotonic() < deadline, f"tofu {verb} never {'ended' if ended else 'started'}"
        time.sleep(0.05)


def start_apply(hub, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        invoke_command("apply", "--env", hub.env_name, *args),
        cwd=hub.root,
        env=hub.process_env(),
        text=True,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen},
    )


# -- 1. production is its state, not its folder ---------------------------------------------------


def test_a_folder_pointing_at_productions_state_is_refused_by_every_task(hub_world, project_repo):
    hub = hub_world("cae")
    shutil.copy(
        project_repo.path / "environments/cae/backend.hcl",
        project_repo.path / "environments/cae-dev/backend.hcl",
    )
    commit_and_push(project_repo, "cae-dev shares production's state")
    bucket = "cae-tofu-state-123456789012"
    refusal = (
        "error: environments/cae-dev/backend.hcl and environments/cae/backend.hcl both point at "
        f"the state s3://{bucket}/cae/terraform.tfstate: every environment needs its own state. "
        "Nothing was changed.\n"
    )

    applied = hub.invoke("apply", "--env", "cae-dev", "--yes")
    destroyed = hub.invoke("destroy", "--env", "cae-dev", "--confirm", "cae-dev")

    assert (applied.returncode, applied.stderr) == (1, refusal)
    assert (destroyed.returncode, destroyed.stderr) == (1, refusal)
    assert tofu_verbs(hub) == []


def test_production_renamed_is_still_production_by_its_state(hub_world, project_repo):
    hub = hub_world("cae")
    root = project_repo.path
    (root / "environments/cae").rename(root / "environments/cae-prod")
    vars_file = root / "environments/cae-prod/terraform.tfvars"
    text = vars_file.read_text().replace('= "cae"\n', '= "cae-prod"\n', 1)
    vars_file.write_text(text.replace("supervised       = true", "supervised       = false"))
    commit_and_push(project_repo, "production under another name, unsupervised")
    marker = "s3://cae-tofu-state-123456789012/cae/terraform.tfstate.hubops-identity.json"

    applied = hub.invoke("apply", "--env", "cae-prod", "--yes")
    destroyed = hub.invoke("destroy", "--env", "cae-prod", "--confirm", "cae-prod")

    for result in (applied, destroyed):
        assert result.returncode == 1
        assert (
            "identity: environments/cae-prod/backend.hcl resolves to the state of cae "
            f"(s3://cae-tofu-state-123456789012/cae/terraform.tfstate, recorded in {marker}): "
            "every environment needs its own state; point environments/cae-prod/backend.hcl at "
            "cae-prod's own bucket and key." in result.stderr
        )
        assert "Nothing was changed; fix by hand what is marked above" in result.stderr
    assert tofu_verbs(hub) == []


def test_invoke_backend_records_which_environment_a_state_belongs_to(hub_world):
    hub = hub_world("cae")

    result = hub.invoke("backend", "--env", "cae", "--check")

    marker = "s3://cae-tofu-state-123456789012/cae/terraform.tfstate.hubops-identity.json"
    assert result.returncode == 0, result.stderr
    assert (
        f"found    identity: {marker} records cae (supervised, never destroyed, domain "
        "hub.example.org)" in result.stdout
    )


# -- 2. supervision cannot be edited away ---------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("supervised       = true", "supervised       = false"),
            "environments/cae/terraform.tfvars says supervised = false, but cae is production: "
            "every apply of it is supervised, and that cannot be switched off. Restore "
            "supervised = true.",
        ),
        (
            ('domain           = "hub.example.org"\n', ""),
            "environments/cae/terraform.tfvars sets no domain, but cae is production: its users "
            "reach it by its DNS name, which every apply checks. Restore domain.",
        ),
    ],
)
def test_productions_supervision_and_domain_cannot_be_edited_away(
    hub_world, project_repo, edit, message
):
    hub = hub_world("cae")
    vars_file = project_repo.path / "environments/cae/terraform.tfvars"
    vars_file.write_text(vars_file.read_text().replace(*edit))
    commit_and_push(project_repo, "unsupervise production")

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert result.stderr == f"error: {project_repo.path}/{message}\n"
    assert tofu_verbs(hub) == []


# -- 3. the typed confirmation binds the plan that was shown --------------------------------------


def test_a_plan_file_swapped_at_the_prompt_is_refused_and_recorded(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()
    primary, secondary = pty.openpty()
    process = start_apply(hub, stdin=secondary)
    os.close(secondary)
    # Once `show` has read the plan (a swap while it reads would fail `show`, not the guard).
    wait_for_call(hub, "show", ended=True)
    [plan_file] = (hub.root / ".hubops/plans/cae").glob("*.tfplan")
    plan_file.write_bytes(b"a plan nobody saw")  # e.g. `invoke plan` in the same checkout
    os.write(primary, b"cae\n")
    stdout, stderr = process.communicate(timeout=120)
    os.close(primary)

    assert process.returncode == 1
    assert re.search(
        r"error: The saved plan \S+\.tfplan has changed since it was shown \(sha256 "
        r"[0-9a-f]{16}\.\.\., now [0-9a-f]{16}\.\.\.\): nothing was applied\. Plan again and "
        r"review the new plan\.",
        stderr,
    )
    assert "apply" not in tofu_verbs(hub)
    [record] = hub.records()
    assert record["applied"] is False and record["exit_status"] == 1
    assert "has changed since it was shown" in record["error"]
    assert not plan_file.exists()  # the run's own plan file does not outlive it


def test_a_second_run_of_the_same_environment_in_the_checkout_is_refused(hub_world):
    from hubops.adapters.run_lock import environment_run_lock

    hub = hub_world("cae")
    with environment_run_lock(hub.root, "cae", "apply"):
        result = hub.invoke("plan", "--env", "cae")

    assert result.returncode == 1
    assert re.fullmatch(
        rf"error: Another hubops run for cae is in progress in this checkout \(pid {os.getpid()}, "
        r"`invoke apply --env cae`, since \S+; lock \.hubops/locks/cae\.lock\): wait for it to "
        rf"finish, or stop it \(Ctrl-C in its terminal, or `kill -INT {os.getpid()}`: it stops "
        r"cleanly\), then run again\. Nothing was changed\.\n",
        result.stderr,
    )


def test_a_reviewed_plan_is_applied_only_with_the_sha256_it_was_reviewed_with(hub_world, tmp_path):
    hub = hub_world("cae")
    hub.replace_node_group()
    planned = hub.invoke("plan", "--env", "cae", "--out", str(tmp_path / "cae.tfplan"))
    saved = re.search(r"Saved plan: (\S+) \(sha256 ([0-9a-f]{64})\)", planned.stdout)
    plan_file, sha256 = saved.groups()
    other = "0" * 64

    refused = hub.invoke(
        "apply", "--env", "cae", "--plan-file", plan_file, "--plan-sha256", other, "--yes"
    )
    applied = hub.invoke(
        "apply", "--env", "cae", "--plan-file", plan_file, "--plan-sha256", sha256, "--yes"
    )

    assert refused.returncode == 1
    assert "has changed since it was reviewed (sha256 0000000000000000..., now " in refused.stderr
    assert applied.returncode == 0, applied.stderr
    assert tofu_verbs(hub).count("apply") == 1
    # The wrong hash is refused before anything starts (so no record); the right one applies.
    [record] = hub.records()
    assert (record["plan_sha256"], record["applied"]) == (sha256, True)


# -- 4. production's data is not deleted unasked --------------------------------------------------


def test_a_plan_that_deletes_productions_data_needs_each_address_acknowledged(hub_world):
    hub = hub_world("cae")
    hub.fake_tofu.scenario(
        {
            "plan": {"resource_changes": DATA_LOSS},
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
        }
    )

    refused = hub.invoke("apply", "--env", "cae", "--yes", "--allow-destroy", EFS)

    assert refused.returncode == 1
    assert (
        "error: This plan deletes or replaces stateful resources of cae that hold what no apply "
        "can bring back:\n"
        f"  {USER_POOL}: every user's login\n"
        f"Nothing was applied. If that is really intended, apply again with --allow-destroy "
        f"'{USER_POOL}' (it is recorded).\n"
    ) in refused.stderr
    assert "apply" not in tofu_verbs(hub)

    allowed = hub.invoke(
        "apply", "--env", "cae", "--yes", "--allow-destroy", EFS, "--allow-destroy", USER_POOL
    )

    assert allowed.returncode == 0, allowed.stderr
    assert hub.records()[-1]["acknowledged_destroys"] == sorted([EFS, USER_POOL])


def test_an_allow_destroy_the_plan_did_not_need_is_said_and_recorded(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()

    result = hub.invoke("apply", "--env", "cae", "--yes", "--allow-destroy", EFS)

    assert result.returncode == 0, result.stderr
    assert (
        f"--allow-destroy '{EFS}': this plan neither deletes nor replaces it as a protected "
        "resource; recorded as given.\n"
    ) in result.stdout
    assert hub.records()[-1]["acknowledged_destroys"] == [EFS]


@pytest.mark.parametrize("given", [("--allow-destroy",), ("--allow-destroy", " ")])
def test_allow_destroy_without_an_address_is_refused(hub_world, given):
    hub = hub_world("cae")

    refused = hub.invoke("apply", "--env", "cae", "--yes", *given)

    assert refused.returncode == 1
    assert refused.stderr == (
        "error: --allow-destroy needs the address of a protected resource the plan may delete or "
        "replace, as a refusal names it (e.g. --allow-destroy "
        "'module.user_directories[0].aws_efs_file_system.home'); repeat it for each. Nothing was "
        "applied.\n"
    )
    assert tofu_verbs(hub) == []


# -- 5. what tofu does comes from the commit, not the shell ---------------------------------------


def test_engine_altering_variables_from_the_shell_are_removed_and_named(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()
    hub.environ.update(TF_CLI_ARGS_plan="-destroy", TF_VAR_supervised="false", TF_WORKSPACE="x")

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 0, result.stderr
    assert (
        "hubops: ignoring TF_CLI_ARGS_plan, TF_VAR_supervised, TF_WORKSPACE from the shell: what "
        "tofu does comes from the committed files only.\n" in result.stderr
    )
    for entry in hub.fake_tofu.log():
        assert not {"TF_CLI_ARGS_plan", "TF_VAR_supervised", "TF_WORKSPACE"} & set(
            entry["tf_variables"]
        )


def test_the_engines_encryption_logs_attached_providers_and_lock_bypass_are_removed_and_named(
    hub_world, tmp_path
):
    hub = hub_world("cae")
    hub.replace_node_group()
    removed = {
        "TF_ENCRYPTION": 'key_provider "pbkdf2" "mine" { passphrase = "attacker-chosen" }',
        "TF_LOG": "TRACE",
        "TF_LOG_PATH": str(tmp_path / "tofu.log"),
        "TF_REATTACH_PROVIDERS": '{"registry.opentofu.org/hashicorp/aws": {"Pid": 1}}',
        "TF_STATE_PERSIST_INTERVAL": "3600",
        "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": "true",
    }
    hub.environ.update(removed, TF_PLUGIN_CACHE_DIR=str(tmp_path / "cache"))

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 0, result.stderr
    assert (
        "hubops: ignoring TF_ENCRYPTION, TF_LOG, TF_LOG_PATH, TF_PLUGIN_CACHE_DIR, "
        "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE, TF_REATTACH_PROVIDERS, "
        "TF_STATE_PERSIST_INTERVAL from the shell: what tofu does comes from the committed files "
        "only.\n" in result.stderr
    )
    for entry in hub.fake_tofu.log():
        assert not set(removed) & set(entry["tf_variables"])
        # Production's engine gets no plugin cache: providers come from its installation.
        assert "TF_PLUGIN_CACHE_DIR" not in entry["tf_variables"]


def test_an_unsupervised_engine_keeps_the_plugin_cache_a_supervised_one_gets_allowed_only(
    hub_world, tmp_path
):
    hub = hub_world("cae-dev")
    hub.replace_node_group()
    shell = {
        "TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache"),
        "TF_TOKEN_app_terraform_io": "a-registry-token",
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
        "HELM_DRIVER": "memory",
    }
    hub.environ.update(shell)

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")

    assert result.returncode == 0, result.stderr
    [applied] = [e for e in hub.fake_tofu.log() if e["argv"][0] == "apply"]
    # The cache is where providers are looked for; the lock file still checks them.
    assert {"TF_PLUGIN_CACHE_DIR", "TF_TOKEN_app_terraform_io"} <= set(applied["tf_variables"])


def test_a_supervised_engine_gets_only_allowed_variables_and_hubops_cli_configuration(
    hub_world, tmp_path
):
    hub = hub_world("cae")
    hub.replace_node_group()
    mirror = tmp_path / "mirror"
    operator_config = tmp_path / "operator.tfrc"
    operator_config.write_text(
        'plugin_cache_dir = "/somewhere"\n'
        'credentials "registry.example.net" {\n  token = "a-secret-token"\n}\n'
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.opentofu.org/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.opentofu.org/hashicorp/*"]\n  }\n'
        "}\n"
    )
    hub.environ.update(
        TF_CLI_CONFIG_FILE=str(operator_config),
        TF_TOKEN_app_terraform_io="a-registry-token",
        TF_PLUGIN_CACHE_DIR=str(tmp_path / "cache"),
        KUBECONFIG=str(tmp_path / "kubeconfig"),
        AWS_PROFILE_FOR_TESTS="kept",
    )

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 0, result.stderr
    assert (
        "hubops: ignoring TF_PLUGIN_CACHE_DIR, TF_TOKEN_app_terraform_io from the shell: what "
        "tofu does comes from the committed files only.\n" in result.stderr
    )
    written = hub.root / ".hubops/engine-config/cae/hubops.tfrc"
    ran = [entry for entry in hub.fake_tofu.log() if entry["argv"][0] != "version"]
    assert {entry["argv"][0] for entry in ran} == {"init", "output", "plan", "show", "apply"}
    for entry in ran:
        assert entry["tf_variables"] == [
            "TF_CLI_CONFIG_FILE", "TF_DATA_DIR", "TF_INPUT", "TF_IN_AUTOMATION"
        ]  # fmt: skip
        assert entry["env"]["TF_CLI_CONFIG_FILE"] == str(written)
        assert "KUBECONFIG" not in entry["environ_names"]
        assert "AWS_PROFILE_FOR_TESTS" in entry["environ_names"]
    assert written.read_text() == (
        "# Written by hubops for one supervised run: the operator's provider installation.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path = "{mirror}"\n'
        '    include = ["registry.opentofu.org/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.opentofu.org/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_a_cli_configuration_with_dev_overrides_is_refused_for_production(hub_world, tmp_path):
    hub = hub_world("cae")
    config = tmp_path / "tofurc"
    config.write_text(
        'provider_installation {\n  dev_overrides {\n    "hashicorp/aws" = "/tmp/my-aws"\n  }\n'
        "  direct {}\n}\n"
    )
    hub.environ["TF_CLI_CONFIG_FILE"] = str(config)

    refused = hub.invoke("apply", "--env", "cae", "--yes")

    assert refused.returncode == 1
    assert refused.stderr == _dev_overrides_refused(config)
    assert tofu_verbs(hub) == []


def _dev_overrides_refused(config) -> str:
    return (
        f"error: The engine's CLI configuration {config} holds dev_overrides, which replace "
        "providers with local builds no lock file checks: cae is supervised, so its engine gets "
        "only the provider installation of a configuration hubops can read. Remove dev_overrides "
        "(or run without this file). Nothing was changed.\n"
    )


def test_dev_overrides_escaped_in_json_or_in_the_engines_config_folder_are_refused(
    hub_world, tmp_path
):
    hub = hub_world("cae")
    escaped = tmp_path / "tofurc.json"
    escaped.write_text(
        '{"provider_installation": [{"dev\\u005foverrides": {"hashicorp/aws": "/tmp/my-aws"}}]}'
    )
    home = tmp_path / "home"
    (home / ".terraform.d").mkdir(parents=True)
    folder_config = home / ".terraform.d" / "local.tfrc"
    folder_config.write_text(
        'provider_installation {\n  dev_overrides {\n    "hashicorp/aws" = "/tmp/my-aws"\n  }\n}\n'
    )

    hub.environ["TF_CLI_CONFIG_FILE"] = str(escaped)
    in_json = hub.invoke("apply", "--env", "cae", "--yes")
    del hub.environ["TF_CLI_CONFIG_FILE"]
    hub.environ["HOME"] = str(home)
    in_folder = hub.invoke("apply", "--env", "cae", "--yes")

    assert in_json.returncode == in_folder.returncode == 1
    assert in_json.stderr == _dev_overrides_refused(escaped)
    assert in_folder.stderr == _dev_overrides_refused(folder_config)
    assert tofu_verbs(hub) == []


def test_a_cli_configuration_that_cannot_be_read_is_refused_for_production(hub_world, tmp_path):
    hub = hub_world("cae")
    config = tmp_path / "broken.tfrc"
    config.write_text('provider_installation {\n  filesystem_mirror {\n    path = "/x"\n')
    hub.environ["TF_CLI_CONFIG_FILE"] = str(config)

    refused = hub.invoke("apply", "--env", "cae", "--yes")

    assert refused.returncode == 1
    assert refused.stderr.startswith(
        f"error: The engine's CLI configuration {config} is not valid HCL (line "
    )
    assert refused.stderr.endswith(
        ": cae is supervised, so its engine gets only the provider installation of a "
        "configuration hubops can read. Fix the file. Nothing was changed.\n"
    )
    assert tofu_verbs(hub) == []


# -- 7. a closed terminal or output pipe loses nothing --------------------------------------------


def test_a_closed_terminal_mid_apply_still_ends_in_a_verdict_and_a_record(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group(apply={"interrupt": True})
    process = start_apply(hub, "--yes")
    wait_for_call(hub, "apply")
    process.send_signal(signal.SIGHUP)
    stdout, stderr = process.communicate(timeout=60)

    apply_entry = [e for e in hub.fake_tofu.log() if e["argv"][0] == "apply"][0]
    assert apply_entry["signals"] == ["SIGINT"]
    assert process.returncode == 1
    assert "Interrupted by SIGHUP: tofu was asked to stop." in stderr
    [record] = hub.records()
    assert record["interrupted"] is True
    assert record["after"] is not None and record["verdict"] is not None


def test_an_output_pipe_closed_mid_apply_neither_stops_tofu_nor_loses_the_record(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer")
    process = start_apply(hub, "--yes", stderr=subprocess.DEVNULL)
    process.stdout.close()  # `| head` that has read enough
    process.wait(timeout=120)

    assert process.returncode == 3
    apply_entry = [e for e in hub.fake_tofu.log() if e["argv"][0] == "apply"][0]
    assert apply_entry["signals"] == [] and apply_entry["exit_code"] == 0
    [record] = hub.records()
    [new] = hub.hub_hostnames()
    assert record["verdict"]["dns_record"] == f"hub.example.org CNAME {new}  (was {hub.hostname})"


# -- 8. after the apply, everything fails closed --------------------------------------------------


def test_an_unexpected_error_after_the_apply_counts_as_changed_and_is_recorded(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group(apply={"outputs": {"hub_load_balancer_hostname": [hub.hostname]}})

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 3
    assert "Routing changed or could not be verified for cae:" in result.stdout
    [record] = hub.records()
    assert record["applied"] is True
    assert record["verdict"]["changed"] is True


# -- 10. every run records, a stopped confirmation included ---------------------------------------


def test_sigterm_at_the_confirmation_applies_nothing_and_is_recorded(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()
    primary, secondary = pty.openpty()
    run = Running(start_apply(hub, stdin=secondary))
    os.close(secondary)
    run.wait_for("Type 'cae' to apply this plan to cae (supervised): ")
    run.process.send_signal(signal.SIGTERM)
    returncode, stdout, stderr = run.finish(timeout=60)
    os.close(primary)

    assert returncode == 1
    assert "error: Interrupted by SIGTERM. No more was done." in stderr
    assert "apply" not in tofu_verbs(hub)
    [record] = hub.records()
    assert record["interrupted"] is True and record["applied"] is False


# A prompt as `invoke apply` shows it, under the handlers of a run (`stops_raise`).
_ASK_UNDER_A_RUN = """
import sys
from hubops.adapters.signals import RunInterrupted, stops_raise
from hubops.cli.confirmation import ask_for_name
with stops_raise():
    try:
        ask_for_name("cae", "Type 'cae': ", "nothing was applied")
    except RunInterrupted as stop:
        sys.exit(str(stop))
"""


def test_a_stop_signal_sent_the_moment_the_prompt_shows_ends_the_wait_every_time():
    # Sent as soon as the prompt is read, the signal often lands before the read has begun; with
    # `input()` one run in twenty then waited for Enter. A hundred tries: every one must end.
    for attempt in range(100):
        primary, secondary = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-c", _ASK_UNDER_A_RUN],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.close(secondary)
        try:
            shown = b""
            while not shown.endswith(b"Type 'cae': "):
                chunk = os.read(process.stdout.fileno(), 100)
                assert chunk, f"try {attempt}: the prompt never showed ({shown!r})"
                shown += chunk
            process.send_signal(signal.SIGTERM)
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"try {attempt}: SIGTERM at the prompt did not end the wait")
        finally:
            process.kill()
            process.wait()
            os.close(primary)
        assert (process.returncode, stderr) == (1, b"Interrupted by SIGTERM.\n"), attempt


# -- 6. production moves forward along main -------------------------------------------------------


def test_production_refuses_an_unpushed_commit_and_a_silent_rollback(hub_world, project_repo):
    hub = hub_world("cae")
    hub.replace_node_group()
    first = project_repo.head()
    assert hub.invoke("apply", "--env", "cae", "--yes").returncode == 0
    project_repo.write("docs-note.md", "a later change\n")
    commit_and_push(project_repo, "a later change")
    second = project_repo.head()
    assert hub.invoke("apply", "--env", "cae", "--yes").returncode == 0
    project_repo.write("other-note.md", "not pushed\n")
    unpushed_commit = project_repo.commit("not pushed")

    unpushed = hub.invoke("apply", "--env", "cae", "--yes")
    project_repo.git("checkout", "-q", "--detach", first)
    backwards = hub.invoke("apply", "--env", "cae", "--yes")
    rolled_back = hub.invoke("apply", "--env", "cae", "--yes", "--rollback")

    assert unpushed.returncode == 1
    assert unpushed.stderr == (
        f"error: {unpushed_commit[:12]} is not on main's history (origin/main is {second[:12]}), "
        "and production is applied only from main: push it and merge it to main first; if it is "
        "merged already, `git fetch origin` and try again.\n"
    )
    assert backwards.returncode == 1
    assert backwards.stderr == (
        f"error: {first[:12]} is an ancestor of {second[:12]}, the commit of production's last "
        "successful apply: applying it would silently roll production back. Apply main's tip "
        "(`git pull`), or pass --rollback to roll back on purpose.\n"
    )
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert hub.records()[-1]["rollback"] == f"rollback from {second} to {first}"
    assert tofu_verbs(hub).count("apply") == 3


def test_production_does_not_start_when_its_records_folder_cannot_take_a_record(
    hub_world, tmp_path
):
    hub = hub_world("cae")
    hub.replace_node_group()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the records folder should be\n")
    hub.environ["HUBOPS_RECORDS_DIR"] = str(blocked)

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: Run records cannot be written under {blocked}/cae: ")
    assert "Nothing was changed; set HUBOPS_RECORDS_DIR to a writable folder" in result.stderr
    assert "plan" not in tofu_verbs(hub)


# -- promotion parity: production gets only what cae-dev ran --------------------------------------


def test_production_refuses_shared_files_that_cae_dev_has_not_applied(hub_world, project_repo):
    hub = hub_world("cae")  # cae-dev applied HEAD successfully in this world
    hub.replace_node_group()
    network = project_repo.path / "modules/network/main.tf"
    network.write_text(network.read_text() + "\n# an untested change\n")
    commit_and_push(project_repo, "a shared change straight to production")

    refused = hub.invoke("apply", "--env", "cae", "--yes")
    overridden = hub.invoke("apply", "--env", "cae", "--yes", "--untested-shared-tree")

    assert refused.returncode == 1
    assert refused.stderr == (
        "error: cae would get a shared tree (modules/, root files) that cae-dev has not run "
        "successfully:\n"
        "  modules/network/main.tf (changed)\n"
        "Apply this commit to cae-dev first and check it there; in an emergency, "
        "--untested-shared-tree applies it anyway (recorded). Nothing was changed.\n"
    )
    assert overridden.returncode == 0, overridden.stderr
    assert tofu_verbs(hub).count("apply") == 1
    [record] = hub.records()
    assert record["parity"]["override"] is True
    assert record["parity"]["untested"] == ["modules/network/main.tf (changed)"]


def remove_shared_records(env_name: str) -> None:
    """Every version of `env_name`'s records in its state bucket, gone."""
    import boto3

    bucket = f"{env_name}-tofu-state-123456789012"
    s3 = boto3.client("s3")
    listed = s3.list_object_versions(Bucket=bucket, Prefix=f"hubops-records/{env_name}/")
    for version in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def test_production_parity_fails_closed_without_cae_devs_records(hub_world):
    hub = hub_world("cae")
    shutil.rmtree(hub.records_dir / "cae-dev")
    remove_shared_records("cae-dev")

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cae would get a shared tree (modules/, root files) that cae-dev has not run "
        "successfully:\n  all of it (no successful apply of cae-dev in its state bucket records "
        "its shared tree)\n"
    )
    assert "plan" not in tofu_verbs(hub)


def test_a_cae_dev_record_on_this_machine_alone_does_not_promote_to_production(hub_world):
    hub = hub_world("cae")
    remove_shared_records("cae-dev")  # what is left: a record anyone could have written here

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cae would get a shared tree (modules/, root files) that cae-dev has not run "
        "successfully:\n  all of it (no successful apply of cae-dev in its state bucket records "
        "its shared tree (records on this machine alone do not count))\n"
    )
    assert "plan" not in tofu_verbs(hub)


def _store_record(hub, started_at: str, name: str, *, commit: str = "0" * 40) -> None:
    """An apply of production's, in both stores, dated `started_at` (stored now, by S3's clock)."""
    from hubops.adapters.environment_files import load_environment
    from hubops.adapters.records import LocalRecordStore, S3RecordStore
    from hubops.facts.outcome import Outcome
    from hubops.facts.run_record import ApplyRecord

    env = load_environment(hub.root, "cae")
    record = ApplyRecord("cae", commit, started_at, applied=True, outcome=Outcome.OK,
                         supervised=True, operator="ahead@elsewhere")  # fmt: skip
    S3RecordStore(env).write(record, name)
    LocalRecordStore(hub.records_dir).write(record, name)


def test_production_refuses_to_run_from_a_clock_behind_its_newest_record(hub_world):
    from datetime import UTC, datetime, timedelta

    from hubops.adapters.clock import as_text

    hub = hub_world("cae")
    # An apply from a machine whose clock was two minutes ahead of this one (within what S3's
    # clock allows: the record is no suspect), so this machine is behind the newest record.
    ahead = as_text(datetime.now(UTC) + timedelta(minutes=2))
    name = f"{ahead.replace(':', '').replace('-', '')}-000000000000-0badc10c.json"
    _store_record(hub, ahead, name)

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert re.fullmatch(
        r"error: This machine's clock says \S+Z, earlier than the newest run record of cae "
        rf"\({re.escape(ahead)}, {re.escape(name)}\): "
        r"records are ordered by time, so this run would be taken for an older one\. Set the "
        r"clock right \(NTP\) and run again; nothing was changed\.\n",
        result.stderr,
    ), result.stderr
    assert "plan" not in tofu_verbs(hub)


@pytest.mark.parametrize(
    ("started_at", "why"),
    [
        (
            "9999-12-31T23:59:59.999Z",
            r"it is dated 9999-12-31T23:59:59\.999Z, after the state bucket stored it "
            r"\(\S+Z\): written by a clock that ran fast, or by hand",
        ),
        ("zzzz-not-a-time", r'its started_at "zzzz-not-a-time" is not an RFC 3339 time'),
    ],
    ids=["a year far ahead", "no time"],
)
def test_a_record_dated_ahead_of_the_state_buckets_clock_never_locks_production_out(
    hub_world, started_at, why
):
    hub = hub_world("cae")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hub.root, capture_output=True, text=True, check=True
    ).stdout.strip()
    name = "99991231T235959.999Z-000000000000-0badc10c.json"
    _store_record(hub, started_at, name, commit=head)

    result = hub.invoke("apply", "--env", "cae", "--yes")
    listed = hub.invoke("history", "--env", "cae")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        rf"^Set aside run record {re.escape(name)} for the clock check: {why}\.$",
        result.stdout,
        re.M,
    ), result.stdout
    # It stands where the state bucket's clock puts it: before this apply, and marked.
    lines = listed.stdout.splitlines()
    assert lines[1].startswith(tuple("0123456789")) and "ahead@elsewhere" not in lines[1]
    assert re.search(rf"ahead@elsewhere .*\(time suspect: {why}\)  \[local\+s3\]$", lines[2])

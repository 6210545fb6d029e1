"""Bad input gets a clear error that says what to do next, and changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hubops.adapters.engine import find_engine_binary
from hubops.adapters.environment_files import load_environment
from hubops.adapters.records import LocalRecordStore
from hubops.facts.errors import EnvironmentFileError, HubopsError, RecordError, ToolMissing
from hubops.facts.run_record import ApplyRecord


def test_a_malformed_tfvars_file_names_the_file(project_repo):
    vars_file = project_repo.path / "environments" / "cae-dev" / "terraform.tfvars"
    vars_file.write_text('environment = "cae-dev"\nsupervised = \n')

    with pytest.raises(EnvironmentFileError) as raised:
        load_environment(project_repo.path, "cae-dev")

    assert str(raised.value).startswith(f"{vars_file}:2: not valid HCL: ")


def test_a_missing_fact_says_which_one_to_add(project_repo):
    vars_file = project_repo.path / "environments" / "cae" / "terraform.tfvars"
    vars_file.write_text(
        "\n".join(line for line in vars_file.read_text().splitlines() if "supervised" not in line)
    )

    with pytest.raises(EnvironmentFileError) as raised:
        load_environment(project_repo.path, "cae")

    assert str(raised.value) == f"{vars_file} does not set `supervised`: add it."


def test_a_fact_of_the_wrong_type_is_refused(project_repo):
    vars_file = project_repo.path / "environments" / "cae" / "terraform.tfvars"
    vars_file.write_text(
        vars_file.read_text().replace("supervised       = true", 'supervised = "yes"')
    )

    with pytest.raises(EnvironmentFileError) as raised:
        load_environment(project_repo.path, "cae")

    assert str(raised.value) == f"{vars_file}: `supervised` must be a bool, not 'yes'."


def test_a_missing_backend_file_says_to_create_it(project_repo):
    backend = project_repo.path / "environments" / "cae-dev" / "backend.hcl"
    backend.unlink()

    with pytest.raises(EnvironmentFileError) as raised:
        load_environment(project_repo.path, "cae-dev")

    assert str(raised.value) == f"{backend} is missing: create it (see README.md)."


def test_an_environment_folder_named_differently_from_its_facts_is_refused(project_repo):
    folder = project_repo.path / "environments"
    (folder / "cae-dev").rename(folder / "cae-staging")

    with pytest.raises(EnvironmentFileError) as raised:
        load_environment(project_repo.path, "cae-staging")

    assert str(raised.value) == (
        f"{folder / 'cae-staging' / 'terraform.tfvars'} says environment = 'cae-dev', but it "
        "lives in environments/cae-staging/: make them agree."
    )


def test_hubops_tofu_bin_overrides_path(fake_tofu, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HUBOPS_TOFU_BIN", str(fake_tofu.bin_dir / "tofu"))

    assert find_engine_binary() == str(fake_tofu.bin_dir / "tofu")


def test_hubops_tofu_bin_that_is_not_executable_is_refused(monkeypatch, tmp_path):
    not_a_binary = tmp_path / "tofu.txt"
    not_a_binary.write_text("")
    monkeypatch.setenv("HUBOPS_TOFU_BIN", str(not_a_binary))

    with pytest.raises(ToolMissing) as raised:
        find_engine_binary()

    assert str(raised.value) == (
        f"HUBOPS_TOFU_BIN={not_a_binary} is not an executable file: point it at the tofu binary, "
        "or unset it to use `tofu` on PATH."
    )


def test_applying_a_missing_plan_file_says_to_plan_again(project_repo, fake_tofu):
    from hubops.adapters.saved_plan import SavedPlan

    missing = project_repo.path / "reviewed.tfplan"

    with pytest.raises(HubopsError) as raised:
        SavedPlan.of(missing)

    assert str(raised.value) == f"The saved plan {missing} is missing: plan again."
    assert fake_tofu.calls() == []


def test_a_record_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    store = LocalRecordStore(tmp_path)
    record = ApplyRecord(environment="cae", started_at="2026-11-26T07:00:00.000Z", commit="abc")

    def crash(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(RecordError) as raised:
        store.write(record)

    assert str(raised.value) == (
        f"Could not write the run record under {tmp_path / 'cae'}: No space left on device. The "
        "run itself is over; set HUBOPS_RECORDS_DIR to a writable folder for the next one."
    )
    assert list((tmp_path / "cae").iterdir()) == []


def test_records_are_never_rewritten(tmp_path):
    store = LocalRecordStore(tmp_path)
    record = ApplyRecord(environment="cae", started_at="2026-11-26T07:00:00.000Z", commit="abc")

    first, second = store.write(record), store.write(record)

    assert first != second
    assert [json.loads(Path(p).read_text()) for p in (first, second)] == [record.to_json()] * 2


def test_an_engine_in_the_checkout_or_through_a_relative_path_entry_is_refused(hub_world):
    hub = hub_world("cae")
    committed = hub.root / "tofu"
    committed.write_text("#!/bin/sh\necho 'a tofu a checkout carries' >&2\nexit 1\n")
    committed.chmod(0o755)
    real_path = hub.fake_tofu.env["PATH"].split(os.pathsep, 1)[1]

    hub.environ.update(HUBOPS_TOFU_BIN="tofu", PATH=f"{os.pathsep}{real_path}")
    relative = hub.invoke("plan", "--env", "cae")
    hub.environ.update(HUBOPS_TOFU_BIN=str(committed), PATH=hub.fake_tofu.env["PATH"])
    inside = hub.invoke("plan", "--env", "cae")

    assert relative.returncode == inside.returncode == 1
    assert relative.stderr == (
        "error: The engine was found as 'tofu', through a relative PATH entry (an empty entry is "
        "the folder the task runs in): whatever a checkout holds there would run. Remove empty "
        "and relative entries from PATH, or set HUBOPS_TOFU_BIN to the engine's absolute path.\n"
    )
    assert inside.stderr == (
        f"error: The engine {committed} is inside the repository ({hub.root}): a binary a "
        "checkout carries is not the engine you installed: install OpenTofu "
        "(https://opentofu.org/docs/intro/install/) or set HUBOPS_TOFU_BIN to its path, outside "
        "the checkout.\n"
    )
    assert hub.fake_tofu.calls() == []

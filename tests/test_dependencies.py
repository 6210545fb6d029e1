"""Dependencies that hold: the floors in pyproject.toml, and the bound on what the tests patch."""

from __future__ import annotations

import importlib.util
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import pytest

from tests.support.moto_server import check_moto_hook

PROJECT = Path(__file__).resolve().parents[1]


def load_check_floors():
    spec = importlib.util.spec_from_file_location(
        "check_floors", PROJECT / "scripts/check_floors.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Moto5Bucket:
    def get_permission(self, action: str, resource: str):
        return None


class RenamedHookBucket:
    def permission_for(self, action: str, resource: str, context: dict):
        return None


class ChangedHookBucket:
    def get_permission(self, action: str, resource: str, context: dict):
        return None


def test_the_installed_moto_has_the_hook_the_tests_replace():
    from importlib.metadata import version

    from moto.s3.models import FakeBucket

    check_moto_hook(version("moto"), FakeBucket)  # does not raise


def test_a_new_moto_major_fails_naming_the_hook_to_check():
    with pytest.raises(RuntimeError) as raised:
        check_moto_hook("6.0.0", Moto5Bucket)

    assert str(raised.value) == (
        "moto 6.0.0 is installed, but tests/support/moto_server.py replaces a private hook of "
        "moto 5 (FakeBucket.get_permission(action, resource)); this moto has "
        "FakeBucket.get_permission(action, resource). Check that the hook still decides bucket "
        "policies, adapt _bucket_permission, then raise MOTO_MAJOR there and moto's bound in "
        "pyproject.toml (or install 'moto[server]<6')."
    )


@pytest.mark.parametrize(
    ("bucket", "found"),
    [
        (RenamedHookBucket, "no FakeBucket.get_permission"),
        (ChangedHookBucket, "FakeBucket.get_permission(action, resource, context)"),
    ],
)
def test_a_moto_5_whose_hook_changed_fails_saying_what_it_has(bucket, found):
    with pytest.raises(RuntimeError) as raised:
        check_moto_hook("5.9.0", bucket)

    assert f"this moto has {found}. Check that the hook" in str(raised.value)


def test_pyproject_bounds_moto_below_the_next_major():
    import tomllib

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    [moto] = [r for r in project["optional-dependencies"]["test"] if r.startswith("moto")]
    assert ",<6" in moto


def test_check_floors_names_a_floor_the_lowest_resolution_could_not_install():
    check_floors = load_check_floors()
    installed = {"tenacity": "8.3.0", "boto3": "1.35.2", "pyyaml": "6.0.3"}

    def version(name):
        if name not in installed:
            raise PackageNotFoundError(name)
        return installed[name]

    found = check_floors.problems(
        ["tenacity>=8.2", "boto3>=1.35.2", "PyYAML>=6.0.1", "PyYAML>=6.0.3", "invoke", "dnslib>=1"],
        installed=version,
    )

    assert found == [
        "tenacity: pyproject.toml says >=8.2, but the lowest resolution installed 8.3.0: raise "
        "the floor to the version that installs (and works)",
        "invoke: pyproject.toml gives it no floor (>=): add one",
        "dnslib: not installed",
    ]


LOCK = PROJECT / "requirements" / "apply.txt"


def locked_pins() -> dict[str, tuple[str, list[str]]]:
    """requirements/apply.txt as {name: (version, hashes)}."""
    from packaging.utils import canonicalize_name

    pins: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in LOCK.read_text().splitlines():
        text = line.strip().rstrip("\\").strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("--hash="):
            pins[name][1].append(text.removeprefix("--hash="))
        else:
            package, version = text.split("==")
            name = canonicalize_name(package)
            pins[name] = (version, [])
    return pins


def test_the_apply_jobs_lock_pins_every_dependency_within_pyproject_with_hashes():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = locked_pins()
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    wanted = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    wanted += [Requirement(r) for r in pyproject["build-system"]["requires"]]

    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements/apply.txt: run `nox -s lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version), (
            f"requirements/apply.txt pins {name}=={version}, outside pyproject.toml's "
            f"{requirement.specifier}: run `nox -s lock`"
        )
    for name, (_version, hashes) in pins.items():
        assert hashes and all(h.startswith("sha256:") for h in hashes), name


def test_the_setup_action_installs_only_the_hashed_lock_and_the_project_without_deps():
    import yaml

    action = yaml.safe_load((PROJECT / ".github/actions/setup/action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if s.get("name", "").startswith("Install the")]
    assert step["uses"] == "./.github/actions/install-hubops"
    install = yaml.safe_load((PROJECT / ".github/actions/install-hubops/action.yml").read_text())
    [step] = install["runs"]["steps"]
    commands = [line for line in step["run"].replace("\\\n", " ").splitlines() if line.strip()]

    assert [" ".join(c.split()) for c in commands] == [
        "python -m pip install --disable-pip-version-check --require-hashes --no-deps -r "
        "requirements/apply.txt",
        "python -m pip install --disable-pip-version-check --no-deps --no-build-isolation .",
    ]
    [python] = [s for s in action["runs"]["steps"] if "setup-python" in s.get("uses", "")]
    assert f"with Python {python['with']['python-version']}" in LOCK.read_text()

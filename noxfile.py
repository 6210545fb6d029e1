"""Nox sessions: `nox -l` lists them. Dependencies come from pyproject.toml."""

import hashlib
import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["validate", "tests", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def install_once(session: nox.Session, *args: str) -> None:
    """pip install, skipped while pyproject.toml is unchanged since the last install here.

    pip's own no-op check costs seconds; validate is meant to take under three.
    """
    stamp = Path(session.virtualenv.location) / ".hubops-installed"
    digest = hashlib.sha256(Path("pyproject.toml").read_bytes() + repr(args).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return
    session.install(*args)
    stamp.write_text(digest)


@nox.session
def validate(session: nox.Session) -> None:
    """Check the OpenTofu tree offline: parse, cross-check, environment rules (tofu if present)."""
    install_once(session, "-e", ".")
    session.run("invoke", "validate", *session.posargs)


def install_node_tools(session: nox.Session) -> dict[str, str]:
    """configurable-http-proxy for the live-hub tests (tests/support/node's lock, npm ci) in the
    venv's `node` folder; returns the environment that puts it on PATH.

    Skipped while the lock is unchanged since the last install there.
    """
    source, target = Path("tests/support/node"), Path(session.virtualenv.location) / "node"
    digest = hashlib.sha256((source / "package-lock.json").read_bytes()).hexdigest()
    stamp = target / ".hubops-installed"
    if not (stamp.is_file() and stamp.read_text() == digest):
        target.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(source / name, target / name)
        session.run("npm", "ci", "--prefix", str(target), "--no-audit", "--no-fund", external=True)
        stamp.write_text(digest)
    path = [str(target / "node_modules" / ".bin"), session.bin, os.environ.get("PATH", "")]
    return {"PATH": os.pathsep.join(path)}


# Both cores; posargs come after, so `-n 0` (one process, for a debugger) or `-m ...` still win.
PARALLEL = ("--numprocesses=auto",)


@nox.session
def tests(session: nox.Session) -> None:
    """Run every tier of the test suite: moto's server, loopback DNS, the live hub, the engines."""
    session.install("-e", ".[test]")
    session.run("pytest", *PARALLEL, *session.posargs, env=install_node_tools(session))


@nox.session(name="tests-fast")
def tests_fast(session: nox.Session) -> None:
    """Run the tests that need no real engine: the edit-test loop (tests itself runs them all)."""
    session.install("-e", ".[test]")
    env = install_node_tools(session)
    session.run("pytest", *PARALLEL, "-m", "not engine", *session.posargs, env=env)


@nox.session(name="tests-unit")
def tests_unit(session: nox.Session) -> None:
    """Run the tests that start nothing (no moto, DNS server, git repository or engine): seconds."""
    session.install("-e", ".[test]")
    session.run("pytest", *PARALLEL, "-m", "not world and not engine", *session.posargs)


@nox.session
def rehearsal(session: nox.Session) -> None:
    """Rehearse a production apply that moves the hub, offline (local AWS and DNS), in a minute."""
    session.install("-e", ".[test]")
    session.run("python", "scripts/rehearsal.py", *session.posargs, env=install_node_tools(session))


@nox.session(name="tests-lowest", reuse_venv=False)
def tests_lowest(session: nox.Session) -> None:
    """Run the tests on the lowest versions pyproject.toml allows: its floors, proved (in CI)."""
    # uv resolves each direct dependency to its floor (the others to their newest); pip cannot.
    session.install("uv")
    session.run(
        "python", "-m", "uv", "pip", "install", "--python", f"{session.bin}/python",
        "--resolution=lowest-direct", "-e", ".[test]",
    )  # fmt: skip
    session.run("python", "scripts/check_floors.py", "test")
    session.run("pytest", *PARALLEL, *session.posargs, env=install_node_tools(session))


@nox.session(python="3.11")
def lock(session: nox.Session) -> None:
    """Pin CI's installs with hashes: requirements/apply.txt (pyproject.toml), nox.txt (nox.in)."""
    # Python 3.11, as CI's setup-python; run it after changing pyproject.toml's dependencies or
    # requirements/nox.in. Existing pins are kept unless they no longer fit (pip-compile).
    session.install("pip-tools>=7.4")
    options = [
        "--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras",
        "--no-emit-index-url", "--no-emit-find-links",
    ]  # fmt: skip
    # The apply jobs' dependencies, the build backend included (the project is installed from
    # it with --no-build-isolation).
    session.run(
        "pip-compile", *options, "--all-build-deps",
        "--output-file", "requirements/apply.txt", "pyproject.toml",
    )  # fmt: skip
    # nox, as CI's validate workflow installs it.
    session.run(
        "pip-compile", *options, "--output-file", "requirements/nox.txt", "requirements/nox.in"
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Lint the Python (ruff), OpenTofu (checkov), the Dockerfile (hadolint), workflows (zizmor)."""
    # The tools only: checkov's bc-python-hcl2 would shadow python-hcl2's `hcl2` in our venv.
    lint_tools = nox.project.load_toml("pyproject.toml")["project"]["optional-dependencies"]
    session.install(*lint_tools["lint"])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("checkov", "--config-file", ".checkov.yaml")
    session.run("hadolint", "docker/Dockerfile")
    session.run("zizmor", "--offline", ".github/")
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    actions = sorted(str(p) for p in Path(".github/actions").glob("*/action.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions)


@nox.session
def benchmark(session: nox.Session) -> None:
    """Measure the speed targets (scripts/benchmark.py; name benchmarks to run only those)."""
    session.install("-e", ".[test]")
    session.run("python", "scripts/benchmark.py", *session.posargs)

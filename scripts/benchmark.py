#!/usr/bin/env python3
"""Speed targets, measured on demand (never as timed assertions in the test suite).

    python3 scripts/benchmark.py            # every benchmark
    python3 scripts/benchmark.py list       # only the named ones (list, apply, engine-apply,
                                            # push, validate, health, tiers)

Each benchmark prints its median over a few runs and the target it is held to.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5


def timed(command: list[str], *, cwd: Path = ROOT, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def median(measure: Callable[[], float], runs: int = RUNS) -> float:
    return statistics.median(measure() for _ in range(runs))


def report(name: str, seconds: float, target: str) -> None:
    print(f"{name:<40} {seconds * 1000:8.0f} ms   target: {target}")


def bench_list() -> None:
    """`invoke --list` against a bare invoke on a one-task file: lazy imports keep it close."""
    invoke = [sys.executable, "-m", "invoke"]
    ours = median(lambda: timed([*invoke, "--list"]))
    with tempfile.TemporaryDirectory() as empty:
        (Path(empty) / "tasks.py").write_text(
            "from invoke import task\n\n@task\ndef noop(c):\n    pass\n"
        )
        bare = median(lambda: timed([*invoke, "--list"], cwd=Path(empty)))
    report("invoke --list", ours, "close to a bare invoke")
    report("bare invoke --list (one no-op task)", bare, "reference")
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv=['invoke','--list']; "
            "from invoke.main import program\n"
            "try: program.run(exit=False)\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('boto3','dns','hcl2','botocore') if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]
    print(f"{'modules imported by invoke --list':<40} {heavy}   target: []")


def bench_push() -> None:
    """The pre-push hook on the last commit: its two parts (validate, offline; which
    environments), and the whole, which a typical push waits for."""
    import os

    hook = [str(ROOT / "scripts" / "pre-push")]
    env = {**os.environ, "PRE_COMMIT_FROM_REF": "HEAD~1", "PRE_COMMIT_TO_REF": "HEAD"}
    validate = median(lambda: timed([*hook, "validate"], env=env))
    changed = median(lambda: timed([*hook, "changed"], env=env))
    report("pre-push: invoke validate --offline", validate, "under 1 s")
    report("pre-push: environments rebuilt", changed, "under 1 s")
    report("pre-push: the whole hook", validate + changed, "under 2 s")


def bench_validate() -> None:
    """The whole tree's offline validation: warm parse cache (the target), no cache, and nox."""
    import importlib.util

    command = [sys.executable, "-m", "invoke", "validate"]
    timed(command)  # fills the parse cache under .hubops/cache/
    report("invoke validate (parse cache warm)", median(lambda: timed(command)), "under 3 s")
    uncached = [
        sys.executable,
        "-c",
        "from pathlib import Path; from hubops.tfcheck import validate_tree; "
        "validate_tree(Path('.'), run_tofu=False)",
    ]
    report("validate, parsing every file", median(lambda: timed(uncached), runs=3), "reference")
    if importlib.util.find_spec("nox"):
        nox = [sys.executable, "-m", "nox", "-s", "validate"]
        timed(nox)  # creates the session's environment if it is not there yet
        report("nox -s validate (environment created)", median(lambda: timed(nox)), "under 3 s")


def _pytest_benchmark(path: str) -> None:
    """Run one on-demand benchmark file (the suite never collects them): it needs the test world
    (moto's server, a loopback DNS server), and says why when it skips."""
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-rs", "-p", "no:cacheprovider", path],
        cwd=ROOT,
        check=True,
    )


def bench_apply() -> None:
    """A guarded apply against the fake tofu, minus the same tofu calls alone: the guard's cost."""
    _pytest_benchmark("tests/benchmarks/bench_guarded_apply.py")


def bench_engine_apply() -> None:
    """A guarded apply driving the real engine (moto's AWS, S3 state), minus the same engine
    calls alone: the guard's cost where the engine is real."""
    _pytest_benchmark("tests/benchmarks/bench_engine_apply.py")


def bench_health() -> None:
    """The health check on a healthy loopback hub (tests/support/live_hub.py): quick checks per
    address, and the journey."""
    _pytest_benchmark("tests/benchmarks/bench_health.py")


def bench_tiers() -> None:
    """The test suite's wall time per tier, as `nox -s tests-fast` and `nox -s tests` run it (both
    cores): once each, since a run takes minutes."""
    tiers = [
        ("tests-fast (pytest -m 'not engine')", ["-m", "not engine"], "under 3 min"),
        ("tests (every tier, as CI runs it)", [], "under 8 min"),
    ]
    for name, selection, target in tiers:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        seconds = timed([*command, "--numprocesses=auto", *selection])
        print(f"{name:<40} {seconds / 60:8.1f} min  target: {target}")


BENCHMARKS: dict[str, Callable[[], None]] = {
    "list": bench_list,
    "apply": bench_apply,
    "engine-apply": bench_engine_apply,
    "health": bench_health,
    "push": bench_push,
    "validate": bench_validate,
    "tiers": bench_tiers,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names or BENCHMARKS:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

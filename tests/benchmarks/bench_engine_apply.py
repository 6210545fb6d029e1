"""Benchmark (on demand, never in the suite): the guard's own overhead on a real engine.

    python3 scripts/benchmark.py engine-apply

A supervised `invoke apply --env cae --yes` drives the real engine (HUBOPS_TOFU_BIN) over
tests/engine_fixture/ against moto's server, its state in moto's S3 behind its lock file; each run
applies a real change (a new pause token, sleeping 0 s). Then the same engine verbs the guard runs
(init, output, plan, show, apply, output) are run directly for the next change, and the medians'
difference is the time the drift-safety checks add. Skipped, with the reason, where no engine or
provider mirror is installed.
"""

import statistics
import subprocess
import time

from tests.support.engine_hub import ENV_NAME, engine_environ

RUNS = 3
BACKEND = f"-backend-config=environments/{ENV_NAME}/backend.hcl"
VARS = f"-var-file=environments/{ENV_NAME}/terraform.tfvars"


def test_guard_overhead_on_a_real_engine(engine_hub):
    hub = engine_hub
    counter = iter(range(1, 2 * RUNS + 1))

    def guarded() -> float:
        hub.commit_vars("benchmark change", pause_token=f"guarded-{next(counter)}")
        start = time.perf_counter()
        result = hub.invoke("apply", "--env", ENV_NAME, "--yes")
        elapsed = time.perf_counter() - start
        assert result.returncode == 0, result.stdout + result.stderr
        return elapsed

    data_dir = hub.work / "bench-direct"
    plan = hub.work / "bench-direct.tfplan"
    environ = engine_environ(hub.real_engine, {"TF_DATA_DIR": str(data_dir)})
    verbs = [
        ["init", "-input=false", "-reconfigure", BACKEND],
        ["output", "-json"],
        ["plan", "-input=false", "-lock-timeout=0s", VARS, f"-out={plan}", "-detailed-exitcode"],
        ["show", "-json", str(plan)],
        ["apply", "-input=false", "-lock-timeout=0s", str(plan)],
        ["output", "-json"],
    ]

    def engine_alone() -> float:
        hub.commit_vars("benchmark change", pause_token=f"direct-{next(counter)}")
        start = time.perf_counter()
        for args in verbs:
            done = subprocess.run(
                [hub.real_engine.binary, *args],
                cwd=hub.root,
                env=environ,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
            )
            assert done.returncode in (0, 2), done.stderr
        return time.perf_counter() - start

    guarded_times, engine_times = [], []
    for _ in range(RUNS):  # interleaved: a slow moment of the machine hits both alike
        guarded_times.append(guarded())
        engine_times.append(engine_alone())
    guarded_median = statistics.median(guarded_times)
    engine_median = statistics.median(engine_times)
    print(
        f"\nreal engine: {hub.real_engine.binary}\n"
        f"guarded apply (invoke apply --env cae --yes) {guarded_median * 1000:8.0f} ms\n"
        f"the same {len(verbs)} engine calls alone          {engine_median * 1000:8.0f} ms\n"
        f"guard overhead                          "
        f"{(guarded_median - engine_median) * 1000:8.0f} ms   target: < 1000 ms"
    )

"""Benchmark (on demand, never in the suite): the guard's own overhead on `invoke apply`.

    python3 scripts/benchmark.py apply

Runs a supervised apply against the fake tofu (moto's server and the loopback DNS server behind
it), then the same tofu calls directly, and reports the difference: the time the drift-safety
checks add. Target: under one second.
"""

import os
import statistics
import subprocess
import time

RUNS = 5


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def test_guard_overhead(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()

    def guarded():
        result = hub.invoke("apply", "--env", "cae", "--yes")
        assert result.returncode == 0, result.stderr

    guarded_times = [_timed(guarded) for _ in range(RUNS)]
    log = hub.fake_tofu.log()
    last_run = log[-len(log) // RUNS :]

    def tofu_alone():
        for entry in last_run:
            env = {**os.environ, **{k: v for k, v in entry["env"].items() if v is not None}}
            subprocess.run(
                [str(hub.fake_tofu.bin_dir / "tofu"), *entry["argv"]],
                cwd=entry["cwd"],
                env=env,
                capture_output=True,
                check=False,
            )

    tofu_times = [_timed(tofu_alone) for _ in range(RUNS)]
    guarded_median, tofu_median = statistics.median(guarded_times), statistics.median(tofu_times)
    print(
        f"\nguarded apply (invoke apply --env cae --yes) {guarded_median * 1000:8.0f} ms\n"
        f"the same {len(last_run)} tofu calls alone        {tofu_median * 1000:8.0f} ms\n"
        f"guard overhead                          "
        f"{(guarded_median - tofu_median) * 1000:8.0f} ms   target: < 1000 ms"
    )

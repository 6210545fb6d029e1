"""Running `invoke` as an operator does: this repository's tasks.py, with its arguments, working
folder, environment variables and input, and what it prints and exits with.

By default the run happens in this test process (invoke's own `Program`, as `python -m invoke`
builds it): a new interpreter per call costs more than most tasks, and the tests make a thousand.
For the length of the call the process takes on the run's environment variables, working folder,
standard streams (real files, as a process's are) and `sys.argv`, and drops what an earlier run
left in the process (credentials remembered for redaction, AWS clients, silenced streams,
pytest's log capture), so each run starts as a new process would. Tests about what only a real
process has (signals, a terminal, a closed pipe, a hung engine) use `invoke_command` with a
subprocess, or `process=True`.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def invoke_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args]


def run_invoke(
    *args: str,
    cwd: Path,
    env: dict,
    input: str | None = None,
    timeout: float = 120,
    process: bool = False,
) -> subprocess.CompletedProcess:
    """`invoke ARGS` in `cwd` with exactly the variables `env`; in this process unless `process`
    (pytest-timeout bounds an in-process run; `timeout` bounds a subprocess)."""
    if process:
        return subprocess.run(
            invoke_command(*args),
            cwd=cwd,
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return _run_in_this_process(list(args), cwd=cwd, env=env, input=input)


def _run_in_this_process(
    args: list[str], *, cwd: Path, env: dict, input: str | None
) -> subprocess.CompletedProcess:
    from invoke import Program, __version__

    from hubops.adapters import aws, output, secrets

    argv = ["invoke", "--search-root", str(REPO_ROOT), *args]
    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr, sys.argv)
    root_logger = logging.getLogger()
    saved_handlers = root_logger.handlers[:]
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        try:
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            secrets._resolved.clear()  # a new process remembers no credentials yet
            aws.forget_clients()  # nor has it made any AWS client
            output._silenced.clear()
            # No handlers, as in a new process: warnings reach stderr through logging.lastResort
            # (pytest's log capture would otherwise take them).
            root_logger.handlers.clear()
            sys.stdin, sys.stdout, sys.stderr, sys.argv = io.StringIO(input or ""), out, err, argv
            code = _exit_status(lambda: _program(Program, __version__).run(argv), err)
        finally:
            root_logger.handlers[:] = saved_handlers
            sys.stdin, sys.stdout, sys.stderr, sys.argv = saved_streams
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_environ)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, code, out.read(), err.read())


def _program(program_class, version: str):
    """The Program `python -m invoke` runs (invoke.main.program), new for each run."""
    return program_class(name="Invoke", binary="inv[oke]", binary_names=["invoke", "inv"],
                         version=version)  # fmt: skip


def _exit_status(run, err) -> int:
    """What the interpreter would exit with after `run()`: SystemExit's code, or 1 with the
    traceback on stderr for an exception nothing caught."""
    try:
        run()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=err)
        return 1
    except Exception:
        traceback.print_exc(file=err)
        return 1
    return 0

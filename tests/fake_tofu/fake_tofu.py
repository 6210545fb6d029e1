"""The project's fake `tofu`: answers like OpenTofu, in OpenTofu's real formats.

No OpenTofu binary can be installed where the tests run, so the `fake_tofu` fixture puts this
program first on PATH. It is the project's own code, written from OpenTofu's documented formats
and wording (each text cites where it was read), and it records every call so tests can assert
on the exact arguments the production code used.

Environment
  FAKE_TOFU_SCENARIO   path of the scenario JSON (below); a missing file means `{}`
  FAKE_TOFU_LOG        JSON-lines log: one `start` and one `end` line per call
  FAKE_TOFU_STATE_DIR  where the fake keeps "remote" state, one file per backend bucket/key
  TF_DATA_DIR          the data directory, as in OpenTofu (default `.terraform`)
  TF_IN_AUTOMATION     as in OpenTofu: hides the "run tofu apply" next-step hint

Commands: `version [-json]`, `init`, `plan`, `show [-json] PLANFILE`, `apply [-json] PLANFILE`,
`output [-json|-raw] [NAME]`, `validate [-json]`, `fmt [-check] [-recursive] [DIR]`, and the
global `-chdir=DIR`. Flags are parsed like Go's flag package (`-x=v`, `-x v`, `--x`); an unknown
flag or command fails like OpenTofu does, so a typo in production code fails its tests.

Scenario JSON (every key optional):
  version            the version `tofu version` reports (default below)
  outputs            {name: value}: root outputs in the state. The state starts from these; an
                     apply then changes it. Writing a scenario with different `outputs` resets
                     the state's outputs to them.
  sensitive_outputs  [name]: outputs marked sensitive
  null_outputs       [name]: declared outputs whose value is null (in no state or planned values;
                     a plan lists them unchanged, as the engine does)
  lock               {id, who, operation, version, created, info}: present (even `{}`) = the
                     state lock is held, and `plan`/`apply` fail with OpenTofu's lock error
  init               {unavailable_providers: ["hashicorp/helm", ...]}: `init` cannot install
                     these (no network, not in a mirror): one error each, exit 1
  plan               what `plan` finds:
      resource_changes  [{address, actions, action_reason?, before?, after?, after_unknown?,
                        replace_paths?}], e.g. {"address": "module.eks.aws_eks_node_group.main",
                        "actions": ["delete", "create"]}
      resource_drift    the same, for what the refresh found changed outside OpenTofu:
                        {"address": ..., "actions": ["update"]} (`before` the state's values,
                        `after` the real object's) or ["delete"] (the object is gone). A plan
                        shows it beside its changes; `plan -refresh-only` plans no change at all
                        and, as OpenTofu 1.10 does, exits 0 under -detailed-exitcode all the same
                        (opentofu/opentofu#3107): resource_drift in `show -json` is the answer.
      refresh_error     {summary, detail?, address?}: the refresh fails (any plan refreshes):
                        "Refreshing state..." lines, then that Error diagnostic, exit 1
      outputs           {name: value} after the apply (default: unchanged)
      unknown_outputs   [name]: outputs only known after the apply
      providers         {local name: version constraint} for the configuration block
  destroy_plan       the same, for `plan -destroy` (default: no resources, every output removed)
  apply              what `apply` does with a saved plan:
      effects     [{"replace_hub_load_balancer": {...}} | {"create_hub_load_balancer": {...}}
                  | {"delete_hub_load_balancer": {...}}], run in order against moto's server
                  (tests/support/aws_world.py). Parameters: cluster_name, hub_namespace, region
                  (default: the plan's -var-file values cluster_name, hub_namespace,
                  aws_region), kind ("elbv2" or "elb"), output (the output that follows the
                  hostname, default "hub_load_balancer_hostname"; null leaves outputs alone).
      outputs     {name: value} set when the apply succeeds
      elapsed_seconds  {address: seconds}: the time the engine reports for that resource's
                  actions (with a "Still creating..." report every 10 seconds of it), without
                  waiting it out; default: the time it really took (0)
      fail        {after_effects?, summary?, detail?, address?} or true: run that many effects
                  (default all), then fail with an "Error:" diagnostic, exit 1
      interrupt   {after_effects?, timeout_seconds?, grace_seconds?} or true: run that many effects
                  (default 0), then wait for SIGINT/SIGTERM; on it print OpenTofu's interrupt
                  text, stop cleanly and exit 1. A second signal within grace_seconds exits
                  at once as OpenTofu does. No signal within timeout_seconds fails loudly.
                  `apply -json` says all of this in OpenTofu's machine-readable UI (JSON lines on
                  stdout, errors as `diagnostic` messages there too); see `JsonUI`.
  validate           {diagnostics: [{severity, summary, detail?, range?, snippet?}]}
  fmt                {unformatted: [path]}: `fmt -check` lists them and exits 3

A key the fake does not know fails the call ("fake tofu: scenario: unknown key ...").
Plan files are zip archives, as the engine's: the fake's own JSON as `tfplan` (only the fake reads
it), beside the configuration snapshot the engine writes (`tfconfig/`, `.terraform.lock.hcl`),
which hubops reads to bind a reviewed plan to its commit.

Its parts, along its own sections: texts (what OpenTofu says, and how a call fails), call (the
call log), output, files (what the fake reads), state, flags, commands, plans, apply; this module
is the entry point.
"""

from __future__ import annotations

import difflib
import os
import signal
import sys

from tests.fake_tofu import output
from tests.fake_tofu.apply import JsonUI
from tests.fake_tofu.call import Call
from tests.fake_tofu.commands import COMMANDS
from tests.fake_tofu.files import read_scenario
from tests.fake_tofu.output import diagnostic
from tests.fake_tofu.texts import KNOWN_COMMANDS, Failure, FakeError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    output.COLOUR = "-no-color" not in argv
    call = Call(argv)
    # OpenTofu treats SIGINT and SIGTERM alike (its main.go makeShutdownCh).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, call.on_signal)
    call.started()
    exit_code = 1
    try:
        exit_code = dispatch(argv, call)
    except Failure as failure:
        sys.stdout.flush()
        if JsonUI.active is not None:  # -json: errors are messages on stdout too
            JsonUI.active.diagnostic(failure.summary, failure.detail, failure.address)
        else:
            sys.stderr.write(diagnostic(failure.summary, failure.detail, failure.address))
            if failure.hint:
                sys.stderr.write(failure.hint + "\n")
        exit_code = failure.exit_code
    except FakeError as problem:
        sys.stderr.write(f"fake tofu: {problem}\n")
        exit_code = 1
    finally:
        sys.stdout.flush()
        call.finish(exit_code)
    return exit_code


def dispatch(argv: list[str], call: Call) -> int:
    while argv and argv[0].startswith("-chdir="):
        os.chdir(argv.pop(0).partition("=")[2])
    if not argv:
        raise FakeError("no command given")
    command, args = argv[0], argv[1:]
    if command in COMMANDS:
        return COMMANDS[command](args, read_scenario(), call)
    if command in KNOWN_COMMANDS:
        raise FakeError(f"`tofu {command}` is not implemented by the fake")
    # main.go: an unknown subcommand, with a suggestion when one is close
    close = difflib.get_close_matches(command, sorted(KNOWN_COMMANDS), n=1)
    suggestion = f' Did you mean "{close[0]}"?' if close else ""
    sys.stderr.write(
        f'OpenTofu has no command named "{command}".{suggestion}\n\n'
        "To see all of OpenTofu's top-level commands, run:\n  tofu -help\n\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

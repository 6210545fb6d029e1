"""The apply's progress lines, rendered from the engine's machine-readable UI (hubops.adapters.progress).

Fed OpenTofu's own recorded `apply -json` output (../shared/fixtures/tofu/, read at run time,
never copied), and messages shaped like them for what the samples do not hold (a slow node group).
"""

from __future__ import annotations

import json

from hubops.adapters.progress import ApplyProgress, duration
from tests.support.samples import sample_text

NODE_GROUP = 'module.eks.aws_eks_node_group.this["hub"]'
CERTIFICATE = "module.hub.aws_acm_certificate_validation.hub"


def rendered(lines: list[str]) -> tuple[list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    progress = ApplyProgress(out=out.append, err=err.append)
    for line in lines:
        progress.feed(line + "\n")
    progress.finish()
    return out, err


def sample_lines(name: str) -> list[str]:
    text = sample_text(name)
    if name.endswith(".json"):  # a golden: the messages gathered into one JSON array
        return [json.dumps(message) for message in json.loads(text)]
    return text.splitlines()


def message(kind: str, address: str, action: str, **hook) -> str:
    part = "change" if kind == "planned_change" else "hook"
    body = {"resource": {"addr": address}, "action": action, **hook}
    return json.dumps({"@level": "info", "@message": "...", part: body, "type": kind})


def summary(add: int, change: int, remove: int, operation: str = "apply") -> str:
    changes = {"add": add, "change": change, "remove": remove, "operation": operation}
    return json.dumps({"@level": "info", "type": "change_summary", "changes": changes})


def test_opentofus_docs_sample_renders_each_resource_and_the_final_count():
    out, err = rendered(sample_lines("ui-apply-docs-sample.jsonl"))

    assert out == [
        "  creating random_pet.animal",
        "  created random_pet.animal (1 of 1)",
        "Apply complete: 1 added, 0 changed, 0 destroyed; resources done: 1 of 1.",
    ]
    assert err == []


def test_a_replacement_counts_as_done_once_both_of_its_steps_completed():
    out, err = rendered(sample_lines("apply-ui-replace.json"))

    assert out == [
        "  destroying tfcoremock_object.object",
        "  destroyed tfcoremock_object.object",
        "  creating tfcoremock_object.object",
        "  created tfcoremock_object.object (1 of 1)",
        "Apply complete: 1 added, 0 changed, 1 destroyed; resources done: 1 of 1.",
    ]
    assert err == []


def test_an_errored_apply_names_what_failed_and_draws_the_diagnostic_on_the_error_stream():
    out, err = rendered(sample_lines("ui-apply-errored.jsonl"))

    assert out == [
        "  destroying null_resource.foo",
        "  destroyed null_resource.foo",
        "  creating null_resource.foo",
        '  null_resource.foo (local-exec): Executing: ["/bin/sh" "-c" "exit 125"]',
        "  null_resource.foo (local-exec): errored",
        "  FAILED creating null_resource.foo after 0s",
        "Apply did not complete; resources done: 1; failed: null_resource.foo.",
    ]
    assert err == [
        "╷",
        "│ Error: local-exec provisioner error",
        "│",
        "│   with null_resource.foo,",
        '│   on main.tf line 2, in resource "null_resource" "foo":',
        '│     2:   provisioner "local-exec" {',
        "│",
        "│ Error running command 'exit 125': exit status 125. Output: ",
        "╵",
    ]


def test_slow_resources_show_their_elapsed_time_while_running_and_when_done():
    lines = [
        message("planned_change", NODE_GROUP, "replace"),
        message("planned_change", CERTIFICATE, "create"),
        message("apply_start", NODE_GROUP, "delete"),
        message("apply_progress", NODE_GROUP, "delete", elapsed_seconds=10),
        message("apply_progress", NODE_GROUP, "delete", elapsed_seconds=20),
        message("apply_complete", NODE_GROUP, "delete", elapsed_seconds=24),
        message("apply_start", NODE_GROUP, "create"),
        message("apply_start", CERTIFICATE, "create"),
        *(
            message("apply_progress", NODE_GROUP, "create", elapsed_seconds=seconds)
            for seconds in range(10, 380, 10)
        ),
        message("apply_complete", CERTIFICATE, "create", elapsed_seconds=45),
        message("apply_complete", NODE_GROUP, "create", elapsed_seconds=372),
        summary(2, 0, 1),
    ]

    out, err = rendered(lines)

    assert out == [
        f"  destroying {NODE_GROUP}",
        f"  destroyed {NODE_GROUP} after 24s",
        f"  creating {NODE_GROUP}",
        f"  creating {CERTIFICATE}",
        f"  still creating {NODE_GROUP} (30s elapsed)",
        f"  still creating {NODE_GROUP} (1m00s elapsed)",
        f"  still creating {NODE_GROUP} (1m30s elapsed)",
        f"  still creating {NODE_GROUP} (2m00s elapsed)",
        f"  still creating {NODE_GROUP} (2m30s elapsed)",
        f"  still creating {NODE_GROUP} (3m00s elapsed)",
        f"  still creating {NODE_GROUP} (3m30s elapsed)",
        f"  still creating {NODE_GROUP} (4m00s elapsed)",
        f"  still creating {NODE_GROUP} (4m30s elapsed)",
        f"  still creating {NODE_GROUP} (5m00s elapsed)",
        f"  still creating {NODE_GROUP} (5m30s elapsed)",
        f"  still creating {NODE_GROUP} (6m00s elapsed)",
        f"  created {CERTIFICATE} after 45s (1 of 2)",
        f"  created {NODE_GROUP} after 6m12s (2 of 2)",
        "Apply complete: 2 added, 0 changed, 1 destroyed; resources done: 2 of 2.",
    ]
    assert err == []


def test_an_interrupted_apply_shows_the_engines_words_and_what_did_not_finish():
    interrupt = {
        "@level": "info",
        "@message": "\nInterrupt received.\nPlease wait for OpenTofu to exit or data loss may "
        "occur.\nGracefully shutting down...\n",
        "type": "log",
    }
    lines = [
        message("planned_change", NODE_GROUP, "update"),
        message("planned_change", CERTIFICATE, "create"),
        message("apply_start", NODE_GROUP, "update"),
        json.dumps(interrupt),
        json.dumps({"@level": "info", "@message": "Stopping operation...", "type": "log"}),
    ]

    out, err = rendered(lines)

    assert out == [
        f"  updating {NODE_GROUP}",
        "Interrupt received.",
        "Please wait for OpenTofu to exit or data loss may occur.",
        "Gracefully shutting down...",
        "Stopping operation...",
        f"Apply did not complete; resources done: 0 of 2; not finished: {NODE_GROUP}.",
    ]
    assert err == []


def test_a_held_lock_is_a_diagnostic_with_the_lock_info_and_no_count():
    detail = (
        "Error message: resource temporarily unavailable\nLock Info:\n"
        "  ID:        1020a40c-9b49-b43c-c0c9-53fd82936ed2\n  Operation: OperationTypeApply\n"
    )
    diagnostic = {
        "severity": "error",
        "summary": "Error acquiring the state lock",
        "detail": detail,
    }
    lock = {"@level": "error", "@message": "Error: ...", "diagnostic": diagnostic}

    out, err = rendered([json.dumps({**lock, "type": "diagnostic"})])

    assert out == []
    assert err == [
        "╷",
        "│ Error: Error acquiring the state lock",
        "│",
        "│ Error message: resource temporarily unavailable",
        "│ Lock Info:",
        "│   ID:        1020a40c-9b49-b43c-c0c9-53fd82936ed2",
        "│   Operation: OperationTypeApply",
        "╵",
    ]


def test_a_destroy_plan_ends_with_the_destroy_count():
    lines = [
        message("planned_change", "aws_s3_bucket.logs", "delete"),
        message("apply_start", "aws_s3_bucket.logs", "delete"),
        message("apply_complete", "aws_s3_bucket.logs", "delete", elapsed_seconds=1),
        summary(0, 0, 1, operation="destroy"),
    ]

    out, _ = rendered(lines)

    assert out[-1] == "Destroy complete: 1 destroyed; resources done: 1 of 1."


def test_lines_that_are_not_json_pass_through_unchanged():
    out, err = rendered(["panic: runtime error", '{"not": "a UI message"}'])

    assert out == ["panic: runtime error", '{"not": "a UI message"}']
    assert err == []


def test_durations_read_as_hours_minutes_and_seconds():
    assert [duration(s) for s in (0, 9, 60, 372, 3723)] == [
        "0s",
        "9s",
        "1m00s",
        "6m12s",
        "1h02m03s",
    ]


def test_a_line_the_renderer_cannot_take_is_relayed_as_it_came(capfd):
    import io

    from hubops.adapters.tofu import _render

    class Broken:
        def feed(self, line):
            raise KeyError("a bug")

    _render(io.StringIO('{"type": "apply_start"}\nplain\n'), Broken())

    assert capfd.readouterr().out == '{"type": "apply_start"}\nplain\n'

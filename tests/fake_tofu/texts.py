"""What OpenTofu says, word for word (each text cites where it was read), and the two ways
a call fails: `Failure`, as OpenTofu reports an error, and `FakeError`, the fake's own."""

from __future__ import annotations

DEFAULT_VERSION = "1.10.6"
REGISTRY = "registry.opentofu.org"
HOSTNAME_OUTPUT = "hub_load_balancer_hostname"
COLUMNS = 78  # OpenTofu's width when its output is not a terminal (internal/terminal)

KNOWN_COMMANDS = {
    "apply", "console", "destroy", "env", "fmt", "force-unlock", "get", "graph", "import",
    "init", "login", "logout", "metadata", "output", "plan", "providers", "refresh", "show",
    "state", "taint", "test", "untaint", "validate", "version", "workspace",
}  # fmt: skip

# internal/command/views/operation.go (`interrupted`, `fatalInterrupt`)
INTERRUPTED = (
    "\nInterrupt received.\nPlease wait for OpenTofu to exit or data loss may occur.\n"
    "Gracefully shutting down...\n"
)
FATAL_INTERRUPT = (
    "\nTwo interrupts received. Exiting immediately. Note that data loss may have occurred.\n"
)
# internal/command/clistate/state.go (LockErrorMessage) and internal/states/statemgr/locker.go
# (LockInfo.String)
LOCK_ERROR = """Error message: {error}
Lock Info:
  ID:        {id}
  Path:      {path}
  Operation: {operation}
  Who:       {who}
  Version:   {version}
  Created:   {created}
  Info:      {info}


OpenTofu acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended."""
# The AWS SDK's errors for a held lock (internal/backend/remote-state/s3/client.go: s3Lock with
# If-None-Match, dynamoDBLock with a condition expression).
S3_LOCK_HELD = (
    "operation error S3: PutObject, https response error StatusCode: 412, RequestID: "
    "FAKE0REQUEST0ID, HostID: fake-host-id, api error PreconditionFailed: At least one of the "
    "pre-conditions you specified did not hold"
)
DYNAMODB_LOCK_HELD = (
    "operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: "
    "FAKE0REQUEST0ID, ConditionalCheckFailedException: The conditional request failed"
)
# internal/command/meta_backend.go (errBackendInit)
BACKEND_INIT = """Reason: Initial configuration of the requested backend "s3"

The "backend" is the interface that OpenTofu uses to store state,
perform operations, etc. If this message is showing up, it means that the
OpenTofu configuration you're using is using a custom configuration for
the OpenTofu backend.

Changes to backend configurations require reinitialization. This allows
OpenTofu to set up the new configuration, copy existing state, etc. Please run
"tofu init" with either the "-reconfigure" or "-migrate-state" flags to
use the current configuration.

If the change reason above is incorrect, please verify your configuration
hasn't changed and try again. At this point, no changes to your existing
configuration or state have been made."""

ACTION_SYMBOLS = {  # internal/command/jsonformat: the plan legend, in OpenTofu's order
    ("create",): ("+", "create", "will be created"),
    ("delete",): ("-", "destroy", "will be destroyed"),
    ("update",): ("~", "update in-place", "will be updated in-place"),
    ("delete", "create"): ("-/+", "destroy and then create replacement", "must be replaced"),
    ("create", "delete"): ("+/-", "create replacement and then destroy", "must be replaced"),
    ("read",): ("<=", "read (data resources)", "will be read during apply"),
}


class Failure(Exception):
    """An error OpenTofu would report as a diagnostic box on stderr."""

    def __init__(
        self,
        summary: str,
        detail: str = "",
        *,
        address: str | None = None,
        exit_code: int = 1,
        hint: str = "",
    ):
        super().__init__(summary)
        self.summary, self.detail, self.address = summary, detail, address
        self.exit_code, self.hint = exit_code, hint


class FakeError(Exception):
    """Something the fake itself cannot do: never mistaken for OpenTofu's own output."""

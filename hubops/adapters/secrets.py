"""Secrets never reach output, logs or run records: text that leaves the tool passes here.

Redacted: the shell's `AWS_*` credential variables, the credentials boto3 actually resolved
(from a profile, SSO, a credentials file or an assumed role: `hubops.adapters.aws.client` remembers them
here), and anything shaped like an access key id.
"""

from __future__ import annotations

import os
import re
import threading

_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")
REDACTED = "[redacted]"
# Very short values are placeholders ("x"); replacing them would mangle ordinary words.
_SHORTEST_SECRET = 8
_resolved: set[str] = set()
_lock = threading.Lock()


def remember_secrets(*values: str | None) -> None:
    """Redact these values too from now on (credentials resolved from any source)."""
    with _lock:
        _resolved.update(v for v in values if v and len(v) >= _SHORTEST_SECRET)


def redact(text: str) -> str:
    """`text` with the AWS credentials in use and anything shaped like an access key id removed."""
    with _lock:
        secrets = set(_resolved)
    secrets.update(os.environ.get(name, "") for name in _CREDENTIAL_VARIABLES)
    # Longest first: a secret containing another is removed whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _SHORTEST_SECRET:
            text = text.replace(secret, REDACTED)
    return _ACCESS_KEY_ID.sub(REDACTED, text)

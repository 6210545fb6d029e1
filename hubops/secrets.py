"""Secrets never reach output, logs or run records: text that leaves the tool passes here."""

from __future__ import annotations

import os
import re

_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the shell's AWS credentials and anything shaped like an access key id removed."""
    for name in _CREDENTIAL_VARIABLES:
        secret = os.environ.get(name, "")
        # Very short values are placeholders ("x"); replacing them would mangle ordinary words.
        if len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    return _ACCESS_KEY_ID.sub(REDACTED, text)

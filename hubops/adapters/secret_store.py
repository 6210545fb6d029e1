"""Secrets Manager: the one secret hubops reads, the health check's JupyterHub token. Its value
is remembered for redaction the moment it is read, so no output, log or record can carry it."""

from __future__ import annotations

from hubops.adapters import aws
from hubops.adapters.secrets import remember_secrets
from hubops.facts.errors import AwsError


def read_secret(region: str, secret_id: str) -> str:
    """The secret's string; AwsError naming the secret (never its value) when it cannot be read."""
    client = aws.client("secretsmanager", region)
    answer = aws.call(client.get_secret_value, SecretId=secret_id)
    value = (answer.get("SecretString") or "").strip()
    remember_secrets(value)
    if not value:
        raise AwsError(f"the secret {secret_id} holds no string (the health check's token)")
    return value

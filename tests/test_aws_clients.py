"""AWS clients: made once per service, region and settings, and made anew when a setting changes."""

import os

import pytest

from hubops.adapters import aws
from hubops.adapters.secrets import REDACTED, redact

REGION = "us-west-2"
FIRST_SECRET = "first-secret-from-the-file"
SECOND_SECRET = "second-secret-from-the-same-file"


@pytest.fixture
def aws_files(monkeypatch, tmp_path):
    """AWS settings from files in tmp_path only: no variables, no metadata service."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "config").write_text(f"[default]\nregion = {REGION}\n")
    return tmp_path


def credentials_file(folder, secret: str) -> None:
    (folder / "credentials").write_text(
        f"[default]\naws_access_key_id = testing\naws_secret_access_key = {secret}\n"
    )


def test_a_client_is_reused_until_its_service_region_or_a_variable_changes(aws_files, monkeypatch):
    credentials_file(aws_files, FIRST_SECRET)
    sts = aws.client("sts", REGION)

    assert aws.client("sts", REGION) is sts
    assert aws.client("s3", REGION) is not sts
    assert aws.client("sts", "eu-west-1") is not sts
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
    assert aws.client("sts", REGION) is not sts


def test_a_credentials_file_rewritten_in_place_makes_a_new_client_and_its_secret_is_redacted(
    aws_files,
):
    credentials_file(aws_files, FIRST_SECRET)
    first = aws.client("sts", REGION)
    credentials_file(aws_files, SECOND_SECRET)  # another size: changed, however coarse the clock

    second = aws.client("sts", REGION)

    assert second is not first
    assert redact(f"boto3 said {SECOND_SECRET}") == f"boto3 said {REDACTED}"

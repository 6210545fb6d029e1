"""Fixture plugin: moto's AWS server on loopback, and a clean AWS environment per test.

The server runs in a thread of the test process (moto's ThreadedMotoServer) but is spoken to over
HTTP like real AWS, by this process and by subprocesses (the fake tofu) alike.
"""

from __future__ import annotations

import logging
import urllib.request

import pytest
from moto.server import ThreadedMotoServer

MOTO_ACCOUNT_ID = "123456789012"  # the account moto reports for any credentials
TEST_REGION = "us-west-2"
# Variables that could point boto3 at real credentials, a real account or the metadata service.
_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


class MotoServer:
    def __init__(self) -> None:
        # One line per request on stderr would bury the test output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Port 0: the kernel picks a free port, read back once the server listens.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def _post(self, path: str, body: bytes = b"") -> None:
        # A plain-text body: as a form (urllib's default type) moto would not see it.
        request = urllib.request.Request(f"{self.endpoint}{path}", data=body, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            response.read()

    def reset(self) -> None:
        """Forget every AWS resource and accept any credentials again."""
        self._post("/moto-api/reset")
        self._post("/moto-api/reset-auth", b"inf")

    def reject_credentials(self) -> None:
        """From now on, refuse every request whose access key moto's IAM does not know.

        The test's dummy keys are unknown, so each call fails with InvalidClientTokenId: a real,
        non-transient AWS fault. `reset()` (run by `aws_env` for the next test) lifts it.
        """
        self._post("/moto-api/reset-auth", b"0")

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="session")
def moto_server():
    """moto's server on 127.0.0.1 for the whole session; `.endpoint` is its URL."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws_env(moto_server, monkeypatch, tmp_path):
    """An empty moto and this process's AWS settings pointing at it; returns those variables.

    Pass the returned dict to subprocesses (on top of os.environ) so they see the same AWS.
    """
    moto_server.reset()
    for name in _REMOVED:
        monkeypatch.delenv(name, raising=False)
    variables = {
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        # Files that do not exist: no developer's ~/.aws settings leak into a test.
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        # Never ask the EC2 metadata service (a non-loopback address) for anything.
        "AWS_EC2_METADATA_DISABLED": "true",
        "HUBOPS_AWS_RETRY_SECONDS": "1",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables

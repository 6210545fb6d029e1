"""Fixture plugin: moto's AWS server on loopback over TLS, and a clean AWS environment per test.

The server runs in threads of the test process but is spoken to over HTTPS like real AWS, by this
process and by subprocesses (the fake tofu, `invoke`) alike: `aws_env` points `AWS_ENDPOINT_URL`
at it and `AWS_CA_BUNDLE` at the certificate made for it, valid for 127.0.0.1 and localhost.

moto ignores the `aws:SecureTransport` condition of a bucket policy (it skips condition operators
it does not know and applies the statement regardless), so the state bucket's "refuse non-TLS
access" statement would refuse every request. This world tells moto which transport each request
really used, so the bucket policy acts as it does in S3: `plain_endpoint`, the same server over
plain HTTP, is refused and the TLS endpoint is served.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import inspect
import ipaddress
import json
import logging
import os
import ssl
import threading
import urllib.request
from pathlib import Path

import pytest

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
    # The shell's endpoints would send a service's calls (signed with the dummy keys) elsewhere.
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def aws_variables_to_remove(environ) -> list[str]:
    """The names in `environ` that could send boto3 (or the engine) anywhere but moto's server."""
    return [n for n in environ if n in _REMOVED or n.startswith("AWS_ENDPOINT_URL_")]


_SECURE_TRANSPORT = "aws:SecureTransport"
# The moto major version whose private hook `_bucket_permission` replaces, and its parameters.
# pyproject.toml bounds moto below the next major; lift both only after checking the hook.
MOTO_MAJOR = 5
_HOOK_PARAMETERS = ["action", "resource"]  # after the bucket itself, whatever its name
_request = threading.local()  # the server handles each request in a thread of its own


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hubops test AWS (moto)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # Its own CA: the certificate is the whole bundle clients are told to trust.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _transport_aware(app):
    """The WSGI app, remembering for the request's thread whether it arrived over TLS."""

    def wrapped(environ, start_response):
        _request.secure = environ.get("wsgi.url_scheme") == "https"
        return app(environ, start_response)

    return wrapped


def _without_nagle(handler):
    """`handler`, answering without Nagle's delay: a response goes out in several small writes,
    and over TLS each waited for the client's delayed ACK (about 10 ms a request)."""
    return type(handler.__name__, (handler,), {"disable_nagle_algorithm": True})


def _bucket_permission(bucket, action: str, resource: str):
    """moto's bucket-policy check, with `aws:SecureTransport` decided by the request's transport.

    A statement whose SecureTransport condition is not met does not apply; one whose condition is
    met applies with the rest of its conditions (evaluated by moto as before).
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy)
    statements = policy["Statement"]
    kept = []
    for statement in statements if isinstance(statements, list) else [statements]:
        conditions = dict(statement.get("Condition", {}))
        booleans = dict(conditions.get("Bool", {}))
        if _SECURE_TRANSPORT in booleans:
            wanted = booleans.pop(_SECURE_TRANSPORT)
            values = wanted if isinstance(wanted, list) else [wanted]
            if str(getattr(_request, "secure", False)).lower() not in (
                str(v).lower() for v in values
            ):
                continue
            conditions.pop("Bool")
            if booleans:
                conditions["Bool"] = booleans
            statement = {k: v for k, v in statement.items() if k != "Condition"}
            if conditions:
                statement["Condition"] = conditions
        kept.append(statement)
    policy["Statement"] = kept
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


def check_moto_hook(moto_version: str, fake_bucket) -> None:
    """Refuse a moto whose private bucket-policy hook is not the one `_bucket_permission` replaces.

    Patching a hook that was renamed or changed would make moto judge bucket policies its own
    way again, and the tests fail far from the cause: say what to check instead.
    """
    hook = getattr(fake_bucket, "get_permission", None)
    parameters = list(inspect.signature(hook).parameters) if callable(hook) else None
    # Once the fixture has patched it, the hook is ours (`bucket` for `self`): same call shape.
    if moto_version.split(".")[0] == str(MOTO_MAJOR) and (parameters or [])[1:] == _HOOK_PARAMETERS:
        return
    found = (
        f"FakeBucket.get_permission({', '.join(parameters[1:])})"
        if parameters is not None
        else "no FakeBucket.get_permission"
    )
    raise RuntimeError(
        f"moto {moto_version} is installed, but tests/support/moto_server.py replaces a private "
        f"hook of moto {MOTO_MAJOR} (FakeBucket.get_permission(action, resource)); this moto has "
        f"{found}. Check that the hook still decides bucket policies, adapt _bucket_permission, "
        f"then raise MOTO_MAJOR there and moto's bound in pyproject.toml (or install "
        f"'moto[server]<{MOTO_MAJOR + 1}')."
    )


class MotoServer:
    """moto's server on 127.0.0.1: `.endpoint` over TLS (`.ca_bundle` trusts it) and
    `.plain_endpoint`, the same AWS over plain HTTP (for showing what refuses it)."""

    def __init__(self, folder: Path) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        # One line per request on stderr would bury the test output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.ca_bundle, self.key = make_certificate(folder)
        app = _transport_aware(DomainDispatcherApplication(create_backend_app))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(self.ca_bundle, self.key)
        # werkzeug closes every connection after one request, so a session ticket is never used;
        # sent, it is one more small write for the client's delayed ACK to stall.
        tls.num_tickets = 0
        # Port 0: the kernel picks a free port, read back once the server listens.
        self._servers = [
            make_server(
                "127.0.0.1",
                0,
                app,
                threaded=True,
                request_handler=_without_nagle(MotoRequestHandler),
                ssl_context=ssl_context,
            )
            for ssl_context in (tls, None)
        ]
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True) for server in self._servers
        ]
        for thread in self._threads:
            thread.start()
        secure, plain = (server.server_address[1] for server in self._servers)
        self.endpoint = f"https://127.0.0.1:{secure}"
        self.plain_endpoint = f"http://127.0.0.1:{plain}"
        self._client_context = ssl.create_default_context(cafile=str(self.ca_bundle))

    def _post(self, path: str, body: bytes = b"") -> None:
        # A plain-text body: as a form (urllib's default type) moto would not see it.
        request = urllib.request.Request(
            f"{self.endpoint}{path}",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(  # noqa: S310 (loopback)
            request, timeout=10, context=self._client_context
        ) as response:
            response.read()

    def reset(self) -> None:
        """Forget every AWS resource and accept any credentials again."""
        forget_everything()
        self._post("/moto-api/reset-auth", b"inf")

    def reject_credentials(self) -> None:
        """From now on, refuse every request whose access key moto's IAM does not know.

        The test's dummy keys are unknown, so each call fails with InvalidClientTokenId: a real,
        non-transient AWS fault. `reset()` (run by `aws_env` for the next test) lifts it.
        """
        self._post("/moto-api/reset-auth", b"0")

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()


class MotoSnapshot:
    """Every object moto's server holds at one moment (each service's backends, by account and
    region), copied: a world the real engine built once, stood up again after a reset with the
    same ids, attributes and S3 objects by `restore_moto`.

    The server runs in threads of this process, so its backends are this process's to copy.
    """

    def __init__(self) -> None:
        from moto.core.base_backend import BackendDict, backend_lock

        with backend_lock:
            self._services = list(BackendDict._instances)
            self._saved, self._made = _copy_untracked(
                [
                    (
                        {account: dict(regions) for account, regions in service.items()},
                        # S3's own index of which account holds each bucket (names are global).
                        dict(getattr(service, "bucket_accounts", {})),
                    )
                    for service in self._services
                ]
            )

    def discard(self) -> None:
        """Close what the copy holds open (S3 keys keep their bytes in temporary files)."""
        from moto.s3.models import FakeKey

        for made in self._made:
            if isinstance(made, FakeKey):
                made.dispose()
        self._made = []


def _copy_untracked(value):
    """A deep copy (one for all: objects shared between services stay shared) that moto does not
    track as its own: its reset disposes of every model it tracks (an S3 key's bytes included)."""
    from moto.core.model_instances import model_data

    memo: dict = {}
    copied = copy.deepcopy(value, memo)
    made = [made for key, made in memo.items() if key != id(memo)]
    ids = {id(one) for one in made}
    for models in model_data.values():
        for model in models.values():
            model.instances_tracked = [i for i in model.instances_tracked if id(i) not in ids]
    return copied, made


def forget_everything() -> None:
    """What moto's own reset (`/moto-api/reset`) does, without its waste: that rebuilds every
    backend in use (EC2's loads its catalogue of AMIs, about 0.2 s a region) and then drops it.
    Only S3's reset is run, for what it closes (its keys' temporary files)."""
    from moto.core.base_backend import BackendDict, BaseBackend, backend_lock
    from moto.core.model_instances import reset_model_data

    with backend_lock:
        for service in BackendDict._instances:
            for regions in service.values():
                for backend in regions.values():
                    if type(backend).reset is not BaseBackend.reset:
                        backend.reset()
            service.clear()
        BackendDict._instances.clear()
    reset_model_data()


def restore_moto(snapshot: MotoSnapshot) -> None:
    """Put a copy of `snapshot` in place of whatever moto holds now (between requests: in a
    test's setup, after `aws_env` reset the server); the snapshot stays as it was, for the next."""
    from moto.core.base_backend import backend_lock

    forget_everything()
    with backend_lock:
        saved = copy.deepcopy(snapshot._saved)  # moto's own from now on: tracked, and reset
        for service, (accounts, bucket_accounts) in zip(snapshot._services, saved, strict=True):
            for account, regions in accounts.items():
                in_place = service[account]  # registers the service as in use, for the next reset
                for region, backend in regions.items():
                    dict.__setitem__(in_place, region, backend)
            if bucket_accounts:
                service.bucket_accounts.update(bucket_accounts)


@contextlib.contextmanager
def running_moto(folder: Path):
    """moto's server on 127.0.0.1 while within, bucket policies judged by the real transport."""
    from importlib.metadata import version

    from moto import settings as moto_settings
    from moto.s3.models import FakeBucket

    check_moto_hook(version("moto"), FakeBucket)
    original = FakeBucket.get_permission
    FakeBucket.get_permission = _bucket_permission
    # moto's MOTO_EC2_LOAD_DEFAULT_AMIS=false, as a function: the server reads it from this
    # process's variables, which an in-process `invoke` replaces for its length. No test asks for
    # an image, and the catalogue (1,300 AMIs and their snapshots a region) was most of the cost of
    # every EC2 region moto set up, and of each copy of a world (`MotoSnapshot`).
    loads_amis = moto_settings.ec2_load_default_amis
    moto_settings.ec2_load_default_amis = lambda: False
    server = MotoServer(folder)
    try:
        yield server
    finally:
        server.stop()
        FakeBucket.get_permission = original
        moto_settings.ec2_load_default_amis = loads_amis


def client_environ(server: MotoServer, folder: Path) -> dict[str, str]:
    """The variables that point boto3, the aws CLI and hubops (here or in a child) at `server`
    and nowhere else; `folder` holds the (absent) config and credentials files."""
    return {
        "AWS_ENDPOINT_URL": server.endpoint,
        # The test certificate, trusted by boto3 (and the aws CLI) instead of the public CAs.
        "AWS_CA_BUNDLE": str(server.ca_bundle),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        # Files that do not exist: no developer's ~/.aws settings leak in.
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        # Never ask the EC2 metadata service (a non-loopback address) for anything.
        "AWS_EC2_METADATA_DISABLED": "true",
        "HUBOPS_AWS_RETRY_SECONDS": "1",
    }


# Its tests start a part of the world (tests/support/tiers.py).
FIXTURE_MARKS = {"moto_server": "world"}


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """moto's server on 127.0.0.1 for the whole session; `.endpoint` is its HTTPS URL."""
    with running_moto(tmp_path_factory.mktemp("moto-tls")) as server:
        yield server


@pytest.fixture
def aws_env(moto_server, monkeypatch, tmp_path):
    """An empty moto and this process's AWS settings pointing at it; returns those variables.

    Pass the returned dict to subprocesses (on top of os.environ) so they see the same AWS.
    """
    moto_server.reset()
    for name in aws_variables_to_remove(list(os.environ)):
        monkeypatch.delenv(name, raising=False)
    variables = client_environ(moto_server, tmp_path)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables

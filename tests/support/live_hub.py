"""Fixture plugin: a real JupyterHub world on loopback, reached through a front door that plays the
AWS application load balancer, for the hub's health check.

The parts are the deployed ones, run as local processes: JupyterHub (GenericOAuthenticator set up
for a Cognito-like authorize URL; the login is never completed), configurable-http-proxy started
with `--no-x-forward` as the tree runs it, single-user servers (jupyter_server, by a local-process
spawner) and Dask Gateway's server (UnsafeLocalBackend: schedulers and workers are local processes)
registered as the hub's `dask-gateway` service. Only the load balancer is this module's: TLS for
the hub's name with a certificate from a test CA made at start, HTTP to HTTPS redirects, HSTS and
the X-Forwarded-* headers, on two loopback addresses (the two the public name resolves to).

`LiveHub`'s fault methods are context managers that break one thing and restore it on exit,
without restarting the hub. configurable-http-proxy comes from npm: `nox -s tests` installs the
version tests/support/node pins and puts it on PATH.

What the installed versions do, found with this world (tests/test_live_hub_world.py proves each):
- Dask Gateway's REST API (/services/dask-gateway/api/v1/...) takes the hub's token only as
  `Authorization: jupyterhub TOKEN` ("token TOKEN" is refused); a service's clusters belong to
  `service:NAME`, and its token needs `access:services!service=dask-gateway`.
- A worker's joining shows in the scheduler's JSON, through the gateway's proxy and with no token:
  /services/dask-gateway/clusters/NAME/json/identity.json (`workers`). The cluster's REST model
  does not count workers, and its `dashboard_route` (/status) needs bokeh, which is not installed.
- The dask_gateway client computes from outside: its REST calls through the front door, the
  scheduler through `gateway_address` (TLS, routed by SNI to the cluster).
- Behind a proxy that says https, the hub's cookies from /hub/oauth_login carry `Secure`; tornado
  reads the last X-Forwarded-Proto value, so `https, http` makes the hub drop it. The `_xsrf`
  cookie (the login page, /hub/login) never carries `Secure` at this JupyterHub unless
  `tornado_settings["xsrf_cookie_kwargs"]` says so, which the tree does not.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# configurable-http-proxy as Zero to JupyterHub 4.4.0 runs it (its chart's image tag), pinned with
# hashes by tests/support/node's lock, which noxfile.py installs.
NODE_TOOLS = Path(__file__).parent / "node"
CHP_VERSION = json.loads((NODE_TOOLS / "package.json").read_text())["dependencies"][
    "configurable-http-proxy"
]
DOMAIN = "hub.cae.test"
ADDRESSES = ("127.0.0.2", "127.0.0.3")
DEAD_ADDRESS = "127.0.0.3"
HEALTH_USER = "hubops-health"
HEALTH_SERVICE = "hubops-health"
GATEWAY_SERVICE = "dask-gateway"
AUTHORIZE_URL = "https://auth.cae.test/oauth2/authorize"
CLIENT_ID = "hubops-test-client"
HSTS = "max-age=31536000; includeSubDomains"
# The hub's bound on a spawn: far above any check's own bound, so a hung spawn is the check's to
# find and stop, not the hub's to give up on first.
SPAWN_TIMEOUT = 600
READY_TIMEOUT = 90  # all parts up, on a loaded machine
_HEAD_LIMIT = 65536


# --- certificates -----------------------------------------------------------------------------


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, public_key, issuer, signing_key, *, names, days, ca=False, after=None):
    """A certificate valid from an hour ago for `days` days, for `names`; or valid for the 30 days
    up to `after` (an expired one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.UTC)
    before = after - datetime.timedelta(days=30) if after else now - datetime.timedelta(hours=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after or now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


class TestCertificates:
    """A throwaway CA (its PEM is the bundle clients trust) and server certificates it issues."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, folder: Path, domain: str = DOMAIN) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.folder, self.domain = folder, domain
        self._key = ec.generate_private_key(ec.SECP256R1())
        # The CA's name says what it is: a certificate from it in an error names a test.
        self._ca_name = _name("hubops live-hub test CA")
        self._ca = _certificate(
            self._ca_name, self._key.public_key(), self._ca_name, self._key, names=None,
            days=2, ca=True,
        )  # fmt: skip
        self.ca_bundle = folder / "ca.pem"
        self.ca_bundle.write_bytes(self._pem(self._ca))

    @staticmethod
    def _pem(certificate) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return certificate.public_bytes(serialization.Encoding.PEM)

    def server_context(
        self, label: str, name: str | None = None, *, days=90, expired=False, self_signed=False
    ) -> ssl.SSLContext:
        """A TLS server context with a new certificate for `name` (the hub's name unless given),
        by the CA unless self-signed."""
        name = name or self.domain
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        after = None
        if expired:
            after = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
        issuer, signer = (_name(name), key) if self_signed else (self._ca_name, self._key)
        certificate = _certificate(
            _name(name), key.public_key(), issuer, signer, names=[name], days=days, after=after
        )
        cert_path, key_path = self.folder / f"{label}.pem", self.folder / f"{label}.key"
        cert_path.write_bytes(self._pem(certificate))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        return context


# --- the front door (the load balancer) -------------------------------------------------------


def _read_head(stream) -> tuple[bytes, bytes]:
    """(the head up to its blank line, the bytes read past it); b"" head at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            raise ValueError("head too long")
        chunk = stream.recv(65536)
        if not chunk:
            return b"", data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return first, headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name.lower()), None)


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    lowered = {n.lower() for n in names}
    return [(n, v) for n, v in headers if n.lower() not in lowered]


def _head(first: str, headers: list[tuple[str, str]]) -> bytes:
    return ("\r\n".join([first, *(f"{n}: {v}" for n, v in headers)]) + "\r\n\r\n").encode("latin-1")


def _read_exactly(stream, count: int, already: bytes) -> bytes:
    data = already
    while len(data) < count:
        chunk = stream.recv(min(65536, count - len(data)))
        if not chunk:
            raise ValueError("body ended early")
        data += chunk
    return data[:count]


def _read_chunked(stream, already: bytes) -> bytes:
    """A chunked request body, de-chunked (the upstream gets it with a Content-Length)."""
    buffer, body = already, b""
    while True:
        while b"\r\n" not in buffer:
            buffer += stream.recv(65536) or b"0\r\n"  # a cut stream ends the body
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return body
        buffer = _read_exactly(stream, size + 2, buffer[: size + 2]) + buffer[size + 2 :]
        body, buffer = body + buffer[:size], buffer[size + 2 :]


def _simple_response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    headers = [*headers, ("Content-Length", str(len(body))), ("Connection", "close")]
    return _head(f"HTTP/1.1 {status}", headers) + body


def _with_redirect_uri(location: str, callback_url: str) -> str:
    parts = urllib.parse.urlsplit(location)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, callback_url if k == "redirect_uri" else v) for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class FrontDoor:
    """The load balancer: an https and an http listener on each address, one request per
    connection, forwarding to the proxy's public port. Its attributes are the faults' switches."""

    def __init__(self, domain, addresses, upstream_port: int, tls: ssl.SSLContext) -> None:
        self.domain = domain
        self.addresses = tuple(addresses)
        self.upstream = ("127.0.0.1", upstream_port)
        self.tls = tls  # the context new connections get: a fault swaps it
        self.health_status: str | None = None  # e.g. "503 Service Unavailable"
        self.forwarded_proto = "https"  # what the proxy is told the client used
        self.callback_url: str | None = None  # rewrites the login's redirect_uri
        self.hsts = True
        self.http_redirects = True
        self._listeners: dict[str, list[socket.socket]] = {}
        self.https_port, self.http_port = self._ports()

    def _ports(self) -> tuple[int, int]:
        """Two ports free on every address (each listener is bound at once, then kept)."""
        for _ in range(20):
            with contextlib.ExitStack() as stack:
                try:
                    sockets = [self._bind(self.addresses[0], 0)]
                    stack.callback(sockets[0].close)
                    https = sockets[0].getsockname()[1]
                    sockets.append(self._bind(self.addresses[0], 0))
                    stack.callback(sockets[1].close)
                    http = sockets[1].getsockname()[1]
                    for address in self.addresses[1:]:
                        for port in (https, http):
                            sockets.append(self._bind(address, port))
                            stack.callback(sockets[-1].close)
                except OSError:
                    continue
                stack.pop_all()
            for listener in sockets:
                host, port = listener.getsockname()
                self._listeners.setdefault(host, []).append(listener)
                self._serve(listener, port == https)
            return https, http
        raise RuntimeError(f"no two ports were free on all of {', '.join(self.addresses)}")

    @staticmethod
    def _bind(address: str, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Reopening an address after `down()` must not wait for TIME_WAIT to pass.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((address, port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        return listener

    def _serve(self, listener: socket.socket, secure: bool) -> None:
        def accept() -> None:
            while True:
                try:
                    connection, peer = listener.accept()
                except OSError:  # closed by down() or stop()
                    return
                threading.Thread(
                    target=self._handle, args=(connection, peer, secure), daemon=True
                ).start()

        threading.Thread(target=accept, daemon=True).start()

    def down(self, address: str) -> None:
        """Close `address`'s listeners: connections to it are refused."""
        for listener in self._listeners.pop(address, []):
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()

    def up(self, address: str) -> None:
        if address not in self._listeners:
            listeners = [self._bind(address, self.https_port), self._bind(address, self.http_port)]
            self._listeners[address] = listeners
            for listener in listeners:
                self._serve(listener, listener.getsockname()[1] == self.https_port)

    def stop(self) -> None:
        for address in list(self._listeners):
            self.down(address)

    def _handle(self, connection: socket.socket, peer, secure: bool) -> None:
        try:
            connection.settimeout(60)
            if secure:
                connection = self.tls.wrap_socket(connection, server_side=True)
            self._exchange(connection, peer[0], secure)
        except (OSError, ValueError):
            pass  # a client that rejected the certificate, or went away: nothing to answer
        finally:
            with contextlib.suppress(OSError):
                connection.close()

    def _exchange(self, client: socket.socket, peer: str, secure: bool) -> None:
        head, rest = _read_head(client)
        if not head:
            return
        first, headers = _parse_head(head)
        method, target, _version = first.split(" ", 2)
        if not secure and self.http_redirects:
            location = f"https://{self.domain}:{self.https_port}{target}"
            client.sendall(_simple_response("301 Moved Permanently", [("Location", location)]))
            return
        if secure and self.health_status and target.split("?")[0] == "/hub/health":
            client.sendall(_simple_response(self.health_status, self._extra(secure)))
            return
        if _header(headers, "Transfer-Encoding"):
            body = _read_chunked(client, rest)
        else:
            body = _read_exactly(client, int(_header(headers, "Content-Length") or 0), rest)
        forwarded_for = ", ".join(filter(None, [_header(headers, "X-Forwarded-For"), peer]))
        headers = _without(
            headers, "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
            "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port",
        )  # fmt: skip
        headers += [
            ("X-Forwarded-For", forwarded_for),
            ("X-Forwarded-Proto", self.forwarded_proto if secure else "http"),
            ("X-Forwarded-Port", str(self.https_port if secure else self.http_port)),
            ("Connection", "close"),  # one request a connection, both sides
        ]
        if body or method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        with socket.create_connection(self.upstream, timeout=300) as upstream:
            upstream.sendall(_head(first, headers) + body)
            response_head, response_rest = _read_head(upstream)
            if not response_head:
                client.sendall(_simple_response("502 Bad Gateway", self._extra(secure)))
                return
            status, response_headers = _parse_head(response_head)
            response_headers = _without(response_headers, "Connection", "Keep-Alive")
            location = _header(response_headers, "Location")
            if self.callback_url and location and "redirect_uri=" in location:
                response_headers = _without(response_headers, "Location")
                response_headers.append(
                    ("Location", _with_redirect_uri(location, self.callback_url))
                )
            response_headers += [("Connection", "close"), *self._extra(secure)]
            client.sendall(_head(status, response_headers) + response_rest)
            # The rest as it comes (a chunked body passes as it is): the upstream closes at its
            # end, as asked.
            while chunk := upstream.recv(65536):
                client.sendall(chunk)

    def _extra(self, secure: bool) -> list[tuple[str, str]]:
        return [("Strict-Transport-Security", HSTS)] if secure and self.hsts else []


# --- the processes ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Part:
    """One process of the world, its output in a log file named after it."""

    def __init__(self, name: str, command: list[str], folder: Path, env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.log = folder / f"{name}.log"
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches pytest, which stops the world
            # in order, not every part at once.
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                cwd=self.folder, start_new_session=True,
            )  # fmt: skip

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (the hub then stops its servers, the gateway its clusters), then SIGKILL."""
        if not self.running():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _descendants(pids: list[int]) -> set[int]:
    """Every process below `pids` now (read from /proc): what a killed parent would orphan."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _get(url: str, token: str | None = None, scheme="token", timeout=5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"{scheme} {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until(what: str, ready, parts: list[Part], timeout: float = READY_TIMEOUT) -> None:
    """Wait for `ready()`; on time out or a part's exit, fail naming `what` with the logs' tails."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        dead = [part for part in parts if not part.running()]
        if dead or time.monotonic() > deadline:
            reason = (
                f"{', '.join(p.name for p in dead)} exited" if dead else f"not within {timeout:g}s"
            )
            tails = "\n".join(f"--- {p.name} ({p.log}):\n{p.tail()}" for p in parts)
            raise RuntimeError(f"the live hub's {what} did not come up ({reason}):\n{tails}")
        time.sleep(0.2)


_HUB_CONFIG = '''\
# Written by tests/support/live_hub.py: the hub of the live-hub test world.
import os
import sys

from jupyterhub.spawner import SimpleLocalProcessSpawner

settings = {settings!r}
c = get_config()  # noqa: F821


class WorldSpawner(SimpleLocalProcessSpawner):
    """Local servers; while the hang flag exists the health user's server runs a command that
    never listens (the hub then waits for it until the spawn bound)."""

    def _hangs(self):
        return self.user.name == settings["health_user"] and os.path.exists(settings["hang_flag"])

    async def start(self):
        self.cmd = settings["hang_command"] if self._hangs() else settings["server_command"]
        return await super().start()

    def get_args(self):
        return [] if self.cmd == settings["hang_command"] else super().get_args()


c.JupyterHub.spawner_class = WorldSpawner
c.SimpleLocalProcessSpawner.home_dir_template = settings["homes"] + "/{{username}}"
c.Spawner.args = ["--ServerApp.allow_root=True"]  # the test machine may run as root
c.Spawner.start_timeout = settings["spawn_timeout"]
c.Spawner.http_timeout = settings["spawn_timeout"]
c.Spawner.default_url = "/lab"

# As the tree's hub.extraConfig sets it where there is https (modules/hub/main.tf).
c.JupyterHub.tornado_settings.update({{"xsrf_cookie_kwargs": {{"secure": True}}}})
c.JupyterHub.bind_url = settings["public_url"]
c.JupyterHub.hub_bind_url = settings["hub_url"]
c.JupyterHub.db_url = "sqlite:///" + settings["folder"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = settings["folder"] + "/cookie_secret"
c.JupyterHub.pid_file = settings["folder"] + "/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.ConfigurableHTTPProxy.should_start = False  # started by the fixture, with --no-x-forward
c.ConfigurableHTTPProxy.api_url = settings["proxy_api_url"]
c.ConfigurableHTTPProxy.auth_token = settings["proxy_token"]

c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = settings["client_id"]
c.GenericOAuthenticator.client_secret = "never-used"
c.GenericOAuthenticator.oauth_callback_url = settings["callback_url"]
c.GenericOAuthenticator.authorize_url = settings["authorize_url"]
# Nothing answers these: the check follows the login only to the authorize URL.
c.GenericOAuthenticator.token_url = "https://auth.cae.test/oauth2/token"
c.GenericOAuthenticator.userdata_url = "https://auth.cae.test/oauth2/userInfo"
c.GenericOAuthenticator.scope = ["openid", "email", "profile"]
c.GenericOAuthenticator.username_claim = "username"
c.GenericOAuthenticator.login_service = "Cognito"
c.GenericOAuthenticator.allow_all = True
c.Authenticator.allowed_users = {{settings["health_user"]}}  # so the user exists from the start

c.JupyterHub.services = [
    {{"name": settings["gateway_service"], "url": settings["gateway_url"],
      "api_token": settings["gateway_token"], "display": False}},
    {{"name": settings["health_service"], "api_token": settings["health_token"]}},
    {{"name": "hubops-test-admin", "api_token": settings["admin_token"]}},
]
gateway_access = "access:services!service=" + settings["gateway_service"]
user = "!user=" + settings["health_user"]
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", gateway_access]}},
    {{"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                 gateway_access]}},
    {{"name": settings["health_service"], "services": [settings["health_service"]],
      "scopes": ["servers" + user, "read:users" + user, "access:servers" + user, gateway_access]}},
    {{"name": "admin", "services": ["hubops-test-admin"]}},
]
'''

_GATEWAY_CONFIG = """\
# Written by tests/support/live_hub.py: Dask Gateway of the live-hub test world.
settings = {settings!r}
c = get_config()  # noqa: F821

c.DaskGateway.address = settings["api_address"]
c.DaskGateway.db_url = "sqlite:///" + settings["folder"] + "/dask-gateway.sqlite"
c.Proxy.address = settings["proxy_address"]
c.Proxy.tcp_address = settings["tcp_address"]
c.Proxy.prefix = settings["prefix"]
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.LocalBackend.clusters_directory = settings["folder"] + "/clusters"
c.ClusterConfig.scheduler_cmd = [settings["python"], "-m", "distributed.cli.dask_scheduler"]
c.ClusterConfig.worker_cmd = [settings["python"], "-m", "distributed.cli.dask_worker"]
c.ClusterConfig.worker_cores = 1
c.ClusterConfig.worker_memory = "512 M"
c.ClusterConfig.idle_timeout = 600
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
c.JupyterHubAuthenticator.jupyterhub_api_url = settings["hub_api_url"]
c.JupyterHubAuthenticator.jupyterhub_api_token = settings["token"]
c.JupyterHubAuthenticator.jupyterhub_service_name = settings["service"]
c.JupyterHubAuthenticator.use_service_access_scopes = True
"""


# --- the world --------------------------------------------------------------------------------


@dataclass
class LiveHub:
    """The running world, as the health check and its tests see it."""

    domain: str  # the hub's public name (TLS name, Host header, redirects)
    addresses: tuple[str, ...]  # what `domain` resolves to: the front door listens on each
    https_port: int  # the front door's TLS port (the ALB's 443), the same on every address
    http_port: int  # its plain-http port (the ALB's 80), the same on every address
    ca_bundle: Path  # the test CA's PEM: give it as SSL_CERT_FILE to trust the front door
    authorize_url: str  # where /hub/oauth_login sends the browser (the Cognito-like IdP)
    client_id: str  # the OAuth client id in that redirect
    callback_url: str  # https://DOMAIN/hub/oauth_callback, the redirect_uri the hub sends
    health_user: str  # the user whose server the check starts (exists from the start)
    health_service: str  # the JupyterHub service the check's token belongs to
    service_token: str  # that service's API token (scopes limited to health_user, the gateway)
    hub_api_url: str  # the hub's REST API, direct (no front door): for assertions
    admin_token: str  # an admin service's token for hub_api_url: for assertions only
    gateway_api_url: str  # Dask Gateway's REST API, direct (the proxy's port, no front door)
    gateway_address: str  # gateway://127.0.0.1:PORT: its TLS scheduler proxy (SNI routing)
    folder: Path  # configuration, databases and each part's log (NAME.log)
    startup_seconds: float  # how long the world took to come up
    _front: FrontDoor = field(repr=False)
    _certificates: TestCertificates = field(repr=False)
    _parts: dict[str, Part] = field(repr=False)
    _hang_flag: Path = field(repr=False)

    @property
    def https_url(self) -> str:
        """The hub's public URL (a port, since the front door's is not 443)."""
        return f"https://{self.domain}:{self.https_port}"

    # --- for assertions

    def servers(self) -> dict[str, dict]:
        """The servers the hub has for health_user, running or pending: {name: model}."""
        status, body = _get(f"{self.hub_api_url}/users/{self.health_user}", self.admin_token)
        assert status == 200, body
        return json.loads(body)["servers"]

    def gateway_clusters(self) -> list[str]:
        """The Dask clusters the health service has (running or pending)."""
        # Dask Gateway's JupyterHub authenticator reads only this scheme ("token" is refused).
        status, body = _get(f"{self.gateway_api_url}/clusters/", self.service_token, "jupyterhub")
        assert status == 200, body
        return sorted(json.loads(body))

    def log_tail(self, part: str, lines: int = 30) -> str:
        """The last lines of a part's log: proxy, hub or dask-gateway."""
        return self._parts[part].tail(lines)

    # --- faults: each a context manager, restored on exit

    @contextlib.contextmanager
    def _front_set(self, **values):
        saved = {name: getattr(self._front, name) for name in values}
        for name, value in values.items():
            setattr(self._front, name, value)
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(self._front, name, value)

    def expired_certificate(self):
        """The front door presents a certificate for the domain that expired yesterday."""
        return self._front_set(tls=self._certificates.server_context("expired", expired=True))

    def certificate_for(self, name: str = "other.cae.test"):
        """The front door presents a valid certificate for another name."""
        return self._front_set(tls=self._certificates.server_context("other-name", name))

    def self_signed_certificate(self):
        """The front door presents a self-signed certificate for the domain (not the test CA's)."""
        context = self._certificates.server_context("self-signed", self_signed=True)
        return self._front_set(tls=context)

    def certificate_expiring_in(self, days: float = 5):
        """The front door presents a valid certificate that expires in `days` days."""
        context = self._certificates.server_context("expiring", days=days)
        return self._front_set(tls=context)

    @contextlib.contextmanager
    def address_down(self, address: str = DEAD_ADDRESS):
        """One of the name's addresses refuses connections (its listeners closed)."""
        self._front.down(address)
        try:
            yield self
        finally:
            self._front.up(address)

    def health_failing(self, status: str = "503 Service Unavailable"):
        """`/hub/health` through the front door answers `status` (the hub is not asked)."""
        return self._front_set(health_status=status)

    def login_redirecting_to(self, callback_url: str = "https://evil.cae.test/hub/oauth_callback"):
        """The login's redirect to the IdP carries another redirect_uri."""
        return self._front_set(callback_url=callback_url)

    def cookies_without_secure(self, forwarded_proto: str = "https, http"):
        """The proxy is told what a buggy proxy appended (tornado reads the last value): the hub
        believes the request was plain http and sets its cookies without `Secure`."""
        return self._front_set(forwarded_proto=forwarded_proto)

    def without_hsts(self):
        """https answers carry no Strict-Transport-Security header."""
        return self._front_set(hsts=False)

    def http_serving(self):
        """The http port serves the hub instead of redirecting to https."""
        return self._front_set(http_redirects=False)

    @contextlib.contextmanager
    def gateway_stopped(self):
        """Dask Gateway's process (and its proxy) stopped; started again, and waited for, on
        exit. The hub keeps its route: the proxy then answers for the unreachable service."""
        gateway = self._parts["dask-gateway"]
        gateway.stop()
        try:
            yield self
        finally:
            gateway.start()
            health = self.gateway_api_url.removesuffix("/v1") + "/health"
            wait_until("Dask Gateway (restarted)", lambda: _get(health)[0] == 200, [gateway])

    @contextlib.contextmanager
    def server_never_starting(self):
        """The health user's spawn hangs: its server runs a command that never listens, and the
        hub waits up to SPAWN_TIMEOUT. On exit a server still there is stopped (and waited for)."""
        self._hang_flag.touch()
        try:
            yield self
        finally:
            self._hang_flag.unlink()
            self._stop_health_server()

    def _stop_health_server(self, timeout: float = 60) -> None:
        url = f"{self.hub_api_url}/users/{self.health_user}/server"
        deadline = time.monotonic() + timeout
        while self.servers():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.health_user}'s server did not stop: {self.servers()}")
            request = urllib.request.Request(url, method="DELETE")
            request.add_header("Authorization", f"token {self.admin_token}")
            with contextlib.suppress(urllib.error.HTTPError):  # 400: already stopping
                urllib.request.urlopen(request, timeout=30).close()  # noqa: S310
            time.sleep(0.5)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JUPYTERHUB_", "DASK_", "JUPYTER_", "CONFIGPROXY_"))
    }
    # The venv's commands first (jupyterhub-singleuser, dask's): the tests run its python
    # without the venv activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def find_proxy() -> str:
    """configurable-http-proxy on PATH, or a failure saying how to install it."""
    import shutil

    found = shutil.which("configurable-http-proxy")
    if found is None:
        pytest.fail(
            "configurable-http-proxy is not on PATH: run the tests with `nox -s tests` (or "
            "tests-fast), which installs it from npm (configurable-http-proxy@"
            f"{CHP_VERSION}, Node 20) and puts it on PATH",
            pytrace=False,
        )
    return found


@contextlib.contextmanager
def running_live_hub(folder: Path, domain: str = DOMAIN):
    """Start the world in `folder` for the public name `domain`, yield its LiveHub, stop every
    process it started on exit."""
    proxy_command = find_proxy()
    started = time.monotonic()
    certificates = TestCertificates(folder, domain)
    ports = {name: _free_port() for name in ("public", "api", "hub", "gw-api", "gw-web", "gw-tcp")}
    tokens = {name: secrets.token_hex(32) for name in ("proxy", "gateway", "health", "admin")}
    hub_api_url = f"http://127.0.0.1:{ports['hub']}/hub/api"
    callback_url = f"https://{domain}/hub/oauth_callback"
    hang_flag = folder / "hang-health-server"
    (folder / "homes").mkdir()
    python = sys.executable
    hub_settings = {
        "folder": str(folder),
        "homes": str(folder / "homes"),
        "health_user": HEALTH_USER,
        "health_service": HEALTH_SERVICE,
        "gateway_service": GATEWAY_SERVICE,
        "hang_flag": str(hang_flag),
        "server_command": [python, "-m", "jupyterhub.singleuser"],
        "hang_command": [python, "-c", "import time; time.sleep(86400)"],
        "spawn_timeout": SPAWN_TIMEOUT,
        "public_url": f"http://127.0.0.1:{ports['public']}",
        "hub_url": f"http://127.0.0.1:{ports['hub']}",
        "proxy_api_url": f"http://127.0.0.1:{ports['api']}",
        "proxy_token": tokens["proxy"],
        "client_id": CLIENT_ID,
        "callback_url": callback_url,
        "authorize_url": AUTHORIZE_URL,
        "gateway_url": f"http://127.0.0.1:{ports['gw-web']}",
        "gateway_token": tokens["gateway"],
        "health_token": tokens["health"],
        "admin_token": tokens["admin"],
    }
    (folder / "jupyterhub_config.py").write_text(_HUB_CONFIG.format(settings=hub_settings))
    gateway_settings = {
        "folder": str(folder),
        "python": python,
        "api_address": f"127.0.0.1:{ports['gw-api']}",
        "proxy_address": f"127.0.0.1:{ports['gw-web']}",
        "tcp_address": f"127.0.0.1:{ports['gw-tcp']}",
        "prefix": f"/services/{GATEWAY_SERVICE}",
        "hub_api_url": hub_api_url,
        "token": tokens["gateway"],
        "service": GATEWAY_SERVICE,
    }
    (folder / "dask_gateway_config.py").write_text(
        _GATEWAY_CONFIG.format(settings=gateway_settings)
    )
    env = _environment({"CONFIGPROXY_AUTH_TOKEN": tokens["proxy"]})
    hub_url = f"http://127.0.0.1:{ports['hub']}"
    parts = {
        "proxy": Part(
            "proxy",
            [
                proxy_command, "--ip", "127.0.0.1", "--port", str(ports["public"]),
                "--api-ip", "127.0.0.1", "--api-port", str(ports["api"]),
                "--default-target", hub_url, "--error-target", f"{hub_url}/hub/error",
                "--no-x-forward", "--log-level", "warn",
            ],
            folder, env,
        ),
        "hub": Part(
            "hub", [python, "-m", "jupyterhub", "-f", str(folder / "jupyterhub_config.py")],
            folder, env,
        ),
        "dask-gateway": Part(
            "dask-gateway",
            [python, "-m", "dask_gateway_server", "-f", str(folder / "dask_gateway_config.py")],
            folder, env,
        ),
    }  # fmt: skip
    front = None
    try:
        for part in parts.values():
            part.start()
        everything = list(parts.values())
        public = f"http://127.0.0.1:{ports['public']}"
        gateway_api_url = f"{public}/services/{GATEWAY_SERVICE}/api/v1"
        wait_until("hub", lambda: _get(f"{hub_url}/hub/health")[0] == 200, everything)
        # The hub adds its routes (itself, the gateway's service) to the proxy at start.
        wait_until(
            "proxy's route to Dask Gateway",
            lambda: _get(f"{public}/services/{GATEWAY_SERVICE}/api/health")[0] == 200,
            everything,
        )
        front = FrontDoor(domain, ADDRESSES, ports["public"], certificates.server_context("good"))
        startup_seconds = time.monotonic() - started
        world = LiveHub(
            domain=domain,
            addresses=ADDRESSES,
            https_port=front.https_port,
            http_port=front.http_port,
            ca_bundle=certificates.ca_bundle,
            authorize_url=AUTHORIZE_URL,
            client_id=CLIENT_ID,
            callback_url=callback_url,
            health_user=HEALTH_USER,
            health_service=HEALTH_SERVICE,
            service_token=tokens["health"],
            hub_api_url=hub_api_url,
            admin_token=tokens["admin"],
            gateway_api_url=gateway_api_url,
            gateway_address=f"gateway://127.0.0.1:{ports['gw-tcp']}",
            folder=folder,
            startup_seconds=startup_seconds,
            _front=front,
            _certificates=certificates,
            _parts=parts,
            _hang_flag=hang_flag,
        )
        yield world
    finally:
        if front is not None:
            front.stop()
        _stop_all(list(parts.values()))


def _stop_all(parts: list[Part]) -> None:
    """Stop the parts, the hub first (it stops its servers), and then anything they left."""
    pids = [p.process.pid for p in parts if p.process is not None]
    below = _descendants(pids)
    for name in ("hub", "dask-gateway", "proxy"):
        for part in parts:
            if part.name == name:
                part.stop()
    below |= _descendants(pids)  # started meanwhile (a worker joining as the gateway stopped)
    for pid in below:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


# A world of its own, built once per run: its tests share one worker (tests/support/tiers.py).
FIXTURE_MARKS = {"live_hub": ("world", pytest.mark.xdist_group("live-hub"))}


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory):
    """The live-hub world for this worker's session (tests/conftest.py groups its tests on one
    worker, so it starts once a run)."""
    with running_live_hub(tmp_path_factory.mktemp("live-hub")) as world:
        yield world

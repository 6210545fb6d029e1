"""Asking the hub over HTTP(S) as a browser would, one address at a time: the connection goes to
the address given, while TLS's SNI, the certificate's name and the Host header are the hub's
public name, so that each address a name resolves to is tried on its own.

TLS is verified against the system's trust store (`SSL_CERT_FILE` and `SSL_CERT_DIR` choose
another, as for any OpenSSL program): the chain and the name, TLS 1.2 at least. Every fault of
the party (refused, timed out, a certificate refused, a malformed answer) is a `HubHttpError`
saying which, never a library's exception.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from hubops.adapters import settings
from hubops.facts.errors import HubopsError
from hubops.facts.settings import HEALTH_HTTP_PORT, HEALTH_HTTPS_PORT

# Enough for a login page or an API answer; a hub answering more is not read further.
LONGEST_BODY = 1 << 20
REQUEST_TIMEOUT = 10.0


class HubHttpError(HubopsError):
    """The hub could not be asked, or its TLS was refused: `kind` says which."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind  # "connect", "timeout", "tls", "protocol"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    certificate_expires: datetime | None = None  # https only: the verified certificate's end

    def header(self, name: str) -> str | None:
        found = self.all(name)
        return found[0] if found else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise HubHttpError(
                f"HTTP {self.status} with a body that is not JSON: {self.body[:200]!r}", "protocol"
            ) from None


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An https connection to one address, with the hub's name for SNI and the certificate."""

    def __init__(self, address: str, port: int, hostname: str, timeout: float):
        context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        super().__init__(address, port, timeout=timeout, context=context)
        self.hub_name = hostname
        self.certificate: dict | None = None  # the verified peer's, kept past the socket's close

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.hub_name)
        self.certificate = self.sock.getpeercert()


def ports() -> tuple[int, int]:
    """The hub's https and http ports (443 and 80; the tests' front door listens elsewhere)."""
    return int(settings.number(HEALTH_HTTPS_PORT)), int(settings.number(HEALTH_HTTP_PORT))


def ask(
    address: str,
    hostname: str,
    path: str,
    *,
    tls: bool,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: dict | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Answer:
    """One request to the hub at `address`, as to `hostname`; HubHttpError when it fails."""
    https_port, http_port = ports()
    port = https_port if tls else http_port
    if tls:
        connection = _PinnedHTTPS(address, port, hostname, timeout)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    sent = {"Host": hostname, "User-Agent": "hubops-health", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    where = f"{'https' if tls else 'http'}://{hostname}{path} at {address}:{port}"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        content = response.read(LONGEST_BODY)
        expires = _expiry(connection.certificate) if tls else None
        return Answer(response.status, response.getheaders(), content, expires)
    except ssl.SSLCertVerificationError as exc:
        raise HubHttpError(
            f"{where}: the certificate was refused: {exc.verify_message}", "tls"
        ) from None
    except ssl.SSLError as exc:
        raise HubHttpError(f"{where}: TLS failed: {exc.reason or exc}", "tls") from None
    except TimeoutError:
        raise HubHttpError(f"{where}: no answer within {timeout:g} s", "timeout") from None
    except (http.client.HTTPException, ValueError) as exc:
        raise HubHttpError(f"{where}: a malformed answer: {exc!r}", "protocol") from None
    except OSError as exc:
        raise HubHttpError(f"{where}: {exc.strerror or exc}", "connect") from None
    finally:
        connection.close()


def _expiry(certificate: dict | None) -> datetime | None:
    if not certificate or "notAfter" not in certificate:
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(certificate["notAfter"]), UTC)

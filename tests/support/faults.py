"""Fixture plugin: a loopback HTTPS proxy between the AWS client and moto that injects faults.

Real AWS throttles, answers 5xx and drops connections; moto never does. `FaultProxy` forwards
every request to moto's server unchanged, except the ones a test asked to fail: those get a
throttling or server error in the wire format of the service's protocol, an access-denied
answer, or a connection closed with no answer at all (before or after moto saw the request).
The client cannot tell the proxy from AWS (it speaks TLS with moto's test certificate, and TLS to
moto), so the production code's real retry policy is what the tests exercise.
"""

from __future__ import annotations

import http.client
import re
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# The answer to give, per fault and protocol: (HTTP status, error code, message).
_ANSWERS = {
    "throttle": {
        "json": (400, "ThrottlingException", "Rate exceeded"),
        "query": (400, "Throttling", "Rate exceeded"),
        "s3": (503, "SlowDown", "Please reduce your request rate."),
    },
    "unavailable": {
        "json": (503, "ServiceUnavailableException", "Service unavailable"),
        "query": (503, "ServiceUnavailable", "Service unavailable"),
        "s3": (503, "ServiceUnavailable", "Service unavailable"),
    },
    "deny": {
        "json": (400, "AccessDeniedException", "User is not authorized to perform this action"),
        "query": (403, "AccessDenied", "User is not authorized to perform this action"),
        "s3": (403, "AccessDenied", "Access Denied"),
    },
}
KINDS = (*_ANSWERS, "drop", "drop_after")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection"}


@dataclass
class Fault:
    kind: str
    match: str  # a regular expression searched in the request's description; "" matches all
    remaining: int | None  # None: forever

    def applies(self, description: str) -> bool:
        return self.remaining != 0 and re.search(self.match, description) is not None


class FaultProxy:
    """Forwards to `upstream` over TLS; `inject` makes matching requests fail.

    `.endpoint` is its HTTPS URL, served with `certificate` and `key`, which also serve as the
    CA bundle trusted upstream.
    """

    def __init__(self, upstream: str, certificate: Path, key: Path):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.upstream_context = ssl.create_default_context(cafile=str(certificate))
        self.faults: list[Fault] = []
        self.seen: list[str] = []  # every request's description, in order
        self.injected: list[str] = []  # "kind description" of every fault given
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        serving.load_cert_chain(certificate, key)
        # The handshake happens on the first read, in the request's own thread, not in accept().
        self._server.socket = serving.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.endpoint = f"https://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, kind: str, *, match: str = "", times: int | None = 1) -> None:
        """Fail the next `times` requests whose description `match` finds (a regex; None: all).

        A description reads `METHOD /path?query TARGET`, where TARGET is the X-Amz-Target
        header (`TrentService.CreateKey`) or the query `Action=` (`GetCallerIdentity`).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        with self._lock:
            self.faults.append(Fault(kind, match, times))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, description: str) -> str | None:
        with self._lock:
            self.seen.append(description)
            for fault in self.faults:
                if fault.applies(description):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    self.injected.append(f"{fault.kind} {description}")
                    return fault.kind
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _protocol(headers, body: bytes) -> str:
    if headers.get("X-Amz-Target"):
        return "json"
    if "x-www-form-urlencoded" in headers.get("Content-Type", "") and b"Action=" in body:
        return "query"
    return "s3"


def _error_body(protocol: str, code: str, message: str) -> tuple[str, bytes]:
    if protocol == "json":
        text = f'{{"__type": "{code}", "message": "{message}"}}'
        return "application/x-amz-json-1.1", text.encode()
    if protocol == "query":
        text = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>fault-proxy</RequestId></ErrorResponse>"
        )
        return "text/xml", text.encode()
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return "application/xml", text.encode()


def _handler_for(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # one line per request would bury test output
            pass

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _describe(self, body: bytes) -> str:
            target = self.headers.get("X-Amz-Target", "")
            if not target and b"Action=" in body:
                fields = urllib.parse.parse_qs(body.decode(errors="replace"))
                target = fields.get("Action", [""])[0]
            return f"{self.command} {self.path} {target}".strip()

        def _handle(self) -> None:
            body = self._read_body()
            kind = proxy._take_fault(self._describe(body))
            if kind == "drop":
                self.close_connection = True
                return
            if kind in _ANSWERS:
                protocol = _protocol(self.headers, body)
                status, code, message = _ANSWERS[kind][protocol]
                content_type, payload = _error_body(protocol, code, message)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                return
            status, reason, headers, payload = self._forward(body)
            if kind == "drop_after":  # moto did the work; the answer is lost on the way back
                self.close_connection = True
                return
            self.send_response(status, reason)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            length = dict((k.lower(), v) for k, v in headers).get("content-length")
            if self.command == "HEAD" and length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _forward(self, body: bytes):
            connection = http.client.HTTPSConnection(
                *proxy.upstream, timeout=30, context=proxy.upstream_context
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                return response.status, response.reason, response.getheaders(), payload
            finally:
                connection.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler


@pytest.fixture
def fault_proxy(aws_env, moto_server, monkeypatch):
    """A `FaultProxy` in front of moto, with this process's (and `aws_env`'s) AWS endpoint on it."""
    proxy = FaultProxy(moto_server.endpoint, moto_server.ca_bundle, moto_server.key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    aws_env["AWS_ENDPOINT_URL"] = proxy.endpoint
    yield proxy
    proxy.stop()

"""The health check: can users log in? Through the hub's public name (or, without one, its load
balancer's), on every address the name resolves to, then, where asked, a user's whole journey.

The rules are `hubops.facts.health`'s; this module asks (DNS with the routing guard's resolver,
the hub over HTTP(S) with `hubops.adapters.hub_http`) and times each step. The journey uses a
JupyterHub token made for this check alone (the `hubops-health` service, its scopes limited to
one user), read from Secrets Manager and never shown. Whatever the journey started is stopped
whatever happens, a stop signal included: the cleanup runs with further signals held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from hubops.adapters import dns
from hubops.adapters.hub_http import Answer, HubHttpError, ask
from hubops.adapters.secret_store import read_secret
from hubops.adapters.signals import RunInterrupted, stops_held, stops_raise
from hubops.adapters.tofu import Tofu
from hubops.facts.environments import Environment
from hubops.facts.health import (
    DEFAULT_EXPIRY_DAYS,
    FORM_LOGIN_PATH,
    HEALTH_PATH,
    OUTPUT_NAME,
    HealthResult,
    HealthTarget,
    Step,
    certificate_finding,
    hsts_problem,
    https_redirect_problem,
    insecure_cookies,
    login_form_problem,
    login_redirect_problem,
)
from hubops.facts.routing import FRONT_DOOR_OUTPUT
from hubops.facts.routing import OUTPUT_NAME as LB_OUTPUT
from hubops.facts.typed_json import ShapeError, from_json

# How long a user's server may take to start (an image pull on a new node included), and a Dask
# cluster to start and get its worker (a spot node included).
SERVER_BOUND = 600.0
DASK_BOUND = 600.0
GATEWAY = "/services/dask-gateway"
# The hub answers a start only after up to its slow_spawn_timeout (10 s by default): an API call
# of the journey waits longer than a quick check's.
API_TIMEOUT = 30.0


@dataclass(frozen=True)
class HealthRequest:
    journey: bool | None = None  # None: as the environment's health_check output says
    expiry_days: int = DEFAULT_EXPIRY_DAYS
    server_bound: float = SERVER_BOUND
    dask_bound: float = DASK_BOUND
    poll_seconds: float = 1.0


def check_state_health(
    root: Path,
    env: Environment,
    request: HealthRequest,
    say: Callable[[str], None],
    *,
    lock_timeout: str = "0s",
) -> HealthResult | None:
    """`invoke health`: the state's outputs read (run lock, preflight, the engine), then the
    check; records nothing (an apply records its own)."""
    from hubops.flows.run_frame import run_frame

    with run_frame(root, env, "health") as frame:
        tofu = frame.preflight(deploying=False).engine(lock_timeout=lock_timeout)
        return state_health(env, tofu, request, say)


def state_health(
    env: Environment, tofu: Tofu, request: HealthRequest, say: Callable[[str], None]
) -> HealthResult | None:
    """The check of the hub the state describes (its `health_check` output); None where the
    state has no such output (a tree from before the check)."""
    outputs = tofu.outputs()
    value = outputs.values.get(OUTPUT_NAME)
    if value is None:
        return None
    try:
        target = from_json(HealthTarget, value)
    except ShapeError as exc:
        return HealthResult(name="?", error=f"the state's {OUTPUT_NAME} output {exc}")
    if target.hostname != env.domain:
        return HealthResult(
            name=target.hostname or "?",
            error=f"the state's {OUTPUT_NAME} names {target.hostname}, where {env.name}'s files "
            f"say {env.domain}: apply the tree first",
        )
    named = [outputs.values.get(FRONT_DOOR_OUTPUT), outputs.values.get(LB_OUTPUT)]
    load_balancer = next((n for n in named if isinstance(n, str) and n.strip()), None)
    secret_id = target.token_secret_id

    def token() -> str:
        return read_secret(env.region, secret_id)

    if request.journey is None:
        request = replace(request, journey=target.journey)
    return check_health(target, load_balancer, request, say, token if secret_id else None)


def check_health(
    target: HealthTarget,
    load_balancer: str | None,
    request: HealthRequest,
    say: Callable[[str], None],
    token: Callable[[], str] | None = None,
) -> HealthResult:
    """Every step on every address, then the journey (with `token`) where asked; each step is
    said as it ends."""
    name = target.hostname or load_balancer
    result = HealthResult(name=name or "?")
    if name is None:
        result.error = "the hub has no public name and no load balancer was found to ask"
        return result

    def add(step: Step) -> None:
        result.steps.append(step)
        say("\n".join(step.lines()))

    started = time.monotonic()
    answer = dns.resolve(name)
    if not answer.ok or not answer.addresses:
        add(
            Step(
                "resolve",
                False,
                f"{name} resolves to no address",
                seconds=_since(started),
                expected="the addresses of the hub's load balancer",
                got=answer.detail,
                todo="check the DNS record (`invoke status`) and the load balancer",
            )
        )
        return result
    add(Step("resolve", True, f"{name} -> {', '.join(answer.addresses)}", seconds=_since(started)))
    passed = []
    for address in answer.addresses:
        steps = (
            _https_steps(address, name, target, request, add)
            if target.hostname
            else _http_steps(address, name, target, add)
        )
        if steps:
            passed.append(address)
    if request.journey:
        if not target.hostname:
            add(Step("journey", False, "not run: the hub has no https name to send a token to"))
        elif not passed:  # already failed: the journey would prove nothing more
            say("journey: not run, no address passed the checks above")
        else:
            result.journey = True
            Journey(passed[0], name, target, request, add, say, token).run()
    return result


def _since(started: float) -> float:
    return time.monotonic() - started


def _timed(add, name: str, address: str, run: Callable[[], Step]) -> bool:
    """Run one step, timed; a fault of the party fails it with what came back."""
    started = time.monotonic()
    try:
        step = run()
    except HubHttpError as exc:
        step = Step(name, False, _SAID[exc.kind], got=str(exc), todo=_TODO[exc.kind])
    step.address, step.seconds = address, _since(started)
    add(step)
    return step.ok


_SAID = {
    "connect": "no connection",
    "timeout": "no answer in time",
    "tls": "the TLS handshake was refused",
    "protocol": "a malformed answer",
}
_TODO = {
    "connect": "check the load balancer's listeners and targets (the proxy's pods)",
    "timeout": "check the load balancer's targets and the proxy's pods",
    "tls": "check the certificate the load balancer's https listener serves (ACM)",
    "protocol": "check what answers on the load balancer",
}


def _https_steps(address: str, name: str, target: HealthTarget, request, add) -> bool:
    """TLS, the hub, HSTS, http sent on to https, the login, Secure cookies: all passed?"""
    answers: list[Answer] = []

    def health() -> Step:
        answer = ask(address, name, HEALTH_PATH, tls=True)
        answers.append(answer)
        if answer.certificate_expires is None:  # verified, so never: but never assumed fine
            ok, said = False, "its end could not be read"
        else:
            ok, said = certificate_finding(
                answer.certificate_expires, datetime.now(UTC), request.expiry_days
            )
        return Step(
            "tls",
            ok,
            f"verified for {name}; {said}",
            expected=None if ok else f"at least {request.expiry_days} days left",
            todo=None if ok else "renew the certificate (ACM: its DNS validation record)",
        )

    if not _timed(add, "tls", address, health):
        return False
    first = answers[0]
    ok = _timed(add, "hub", address, lambda: _status_step("hub", first, HEALTH_PATH, 200))
    hsts = first.header("Strict-Transport-Security")
    ok &= _timed(
        add,
        "hsts",
        address,
        lambda: _judged(
            "hsts",
            hsts_problem(hsts),
            f"Strict-Transport-Security: {hsts}",
            "browsers are not held to https",
            "Strict-Transport-Security with max-age > 0",
            "set HSTS on the load balancer's https listener",
        ),
    )
    ok &= _timed(add, "http", address, lambda: _redirect_step(address, name))
    ok &= _timed(add, "login", address, lambda: _login_step(address, name, target, answers, True))
    ok &= _timed(add, "cookies", address, lambda: _cookie_step(answers))
    return ok


def _http_steps(address: str, name: str, target: HealthTarget, add) -> bool:
    """Without a public name (no https): the hub and its login form over http."""

    def hub() -> Step:
        return _status_step("hub", ask(address, name, HEALTH_PATH, tls=False), HEALTH_PATH, 200)

    def login() -> Step:
        return _login_step(address, name, target, [], False)

    return _timed(add, "hub", address, hub) & _timed(add, "login", address, login)


def _judged(
    name: str, problem: str | None, said: str, failed: str, expected: str, todo: str
) -> Step:
    """A step that passes when its rule found no problem, and says what to do when it did."""
    if problem is None:
        return Step(name, True, said)
    return Step(name, False, failed, expected=expected, got=problem, todo=todo)


def _status_step(name: str, answer: Answer, path: str, wanted: int) -> Step:
    ok = answer.status == wanted
    return Step(
        name,
        ok,
        f"{path} answered HTTP {answer.status}",
        expected=None if ok else f"HTTP {wanted}",
        got=None if ok else f"HTTP {answer.status}: {answer.body[:200]!r}",
        todo=None if ok else "check the hub's pod (`kubectl -n NAMESPACE logs deploy/hub`)",
    )


def _redirect_step(address: str, name: str) -> Step:
    answer = ask(address, name, HEALTH_PATH, tls=False)
    location = answer.header("Location")
    return _judged(
        "http",
        https_redirect_problem(answer.status, location, name),
        f"plain http is sent on to {location}",
        "plain http is served",
        f"HTTP 301 to https://{name}{HEALTH_PATH}",
        "make the load balancer's http listener redirect",
    )


def _login_step(
    address: str, name: str, target: HealthTarget, answers: list[Answer], tls: bool
) -> Step:
    """The login: to the identity provider with this hub's client and callback, or (dummy
    authentication) the hub's own form; every answer kept in `answers` for the cookie step."""
    login = target.login
    if login is None:
        answer = ask(address, name, FORM_LOGIN_PATH, tls=tls)
        answers.append(answer)
        return _judged(
            "login",
            login_form_problem(answer.status, answer.body),
            "the login form answers",
            "no login form",
            f"{FORM_LOGIN_PATH} answering a login form",
            "check the hub's pod and its authenticator",
        )
    # The page users land on first sets cookies too (its form's _xsrf).
    answers.append(ask(address, name, FORM_LOGIN_PATH, tls=tls))
    answer = ask(address, name, login.start_path, tls=tls)
    answers.append(answer)
    return _judged(
        "login",
        login_redirect_problem(answer.status, answer.header("Location"), login),
        f"{login.start_path} sends users to {login.authorize_url} for client {login.client_id}",
        "the login does not go where it must",
        f"a redirect to {login.authorize_url} with client_id={login.client_id} and "
        f"redirect_uri={login.redirect_uri}",
        "check the hub's authenticator settings against the user pool's app client",
    )


def _cookie_step(answers: list[Answer]) -> Step:
    names = [name for answer in answers for name in insecure_cookies(answer.all("Set-Cookie"))]
    set_count = sum(len(answer.all("Set-Cookie")) for answer in answers)
    if not names:
        return Step("cookies", True, f"{set_count} cookie(s) set over https, each Secure")
    return Step(
        "cookies",
        False,
        f"cookies set over https without Secure: {', '.join(sorted(set(names)))}",
        expected="Secure on every cookie the hub sets over https",
        got="the hub believes it is served over plain http (X-Forwarded-Proto)",
        todo="stop the proxy adding its own X-Forwarded-* headers behind the load balancer",
    )


@dataclass
class Journey:
    """A user's whole path through one address: a server started, reached and stopped; a Dask
    cluster created, given a worker and shut down."""

    address: str
    name: str
    target: HealthTarget
    request: HealthRequest
    add: Callable[[Step], None]
    say: Callable[[str], None]
    token: Callable[[], str] | None
    secret: str = ""
    server_started: bool = False
    cluster: str | None = None

    def run(self) -> None:
        try:
            with stops_raise():
                self.secret = self.token() if self.token else ""
                if not self.secret:
                    self._fail("token", "no token for the journey", "the tree's health token")
                    return
                self._server() and self._dask()
        except RunInterrupted as exc:
            self._fail("journey", f"stopped: {exc}", "the journey to its end")
        except HubHttpError as exc:
            self._fail("journey", "the hub could not be asked", "an answer", str(exc))
        finally:
            with stops_held(self.say):
                self._clean_up()

    # -- the steps ------------------------------------------------------------------------

    def _server(self) -> bool:
        user = quote(self.target.user, safe="")
        started = time.monotonic()
        self.server_started = True  # asked: whatever the answer, the cleanup stops it
        answer = self._hub("POST", f"/hub/api/users/{user}/server")
        if answer.status not in (201, 202):
            return self._fail(
                "server",
                f"{self.target.user}'s server was not started",
                "HTTP 201 or 202",
                f"HTTP {answer.status}: {answer.body[:200]!r}",
                started,
            )
        while True:
            model = self._hub("GET", f"/hub/api/users/{user}").json()
            server = (model.get("servers") or {}).get("") or {}
            if server.get("ready"):
                break
            if _since(started) > self.request.server_bound:
                return self._fail(
                    "server",
                    f"{self.target.user}'s server did not become ready",
                    f"ready within {self.request.server_bound:g} s",
                    f"pending={server.get('pending')!r}",
                    started,
                    todo="check the user's pod (image pull, node capacity, its volume)",
                )
            time.sleep(self.request.poll_seconds)
        self._pass("server", f"{self.target.user}'s server started and ready", started)
        started = time.monotonic()
        answer = self._hub("GET", f"/user/{user}/api/status")
        if answer.status != 200:
            return self._fail(
                "server reached",
                "the server does not answer through the public name",
                "HTTP 200 from its /api/status",
                f"HTTP {answer.status}: {answer.body[:200]!r}",
                started,
            )
        return self._pass("server reached", f"/user/{self.target.user}/api/status: 200", started)

    def _dask(self) -> bool:
        started = time.monotonic()
        answer = self._gateway("POST", "/api/v1/clusters/", {"cluster_options": {}})
        if answer.status not in (200, 201):
            return self._fail(
                "dask cluster",
                "Dask Gateway made no cluster",
                "HTTP 201 with the cluster's name",
                f"HTTP {answer.status}: {answer.body[:200]!r}",
                started,
                todo="check Dask Gateway's pods and its JupyterHub service",
            )
        self.cluster = answer.json()["name"]
        while True:
            model = self._gateway("GET", f"/api/v1/clusters/{self.cluster}").json()
            if model.get("status") == "RUNNING":
                break
            if (
                model.get("status") in ("FAILED", "STOPPED")
                or _since(started) > self.request.dask_bound
            ):
                return self._fail(
                    "dask cluster",
                    f"cluster {self.cluster} did not start",
                    f"RUNNING within {self.request.dask_bound:g} s",
                    f"status {model.get('status')}",
                    started,
                )
            time.sleep(self.request.poll_seconds)
        self._pass("dask cluster", f"cluster {self.cluster} running", started)
        started = time.monotonic()
        answer = self._gateway("POST", f"/api/v1/clusters/{self.cluster}/scale", {"count": 1})
        if answer.status not in (200, 204):
            return self._fail(
                "dask worker", "the cluster was not scaled", "HTTP 204", f"HTTP {answer.status}"
            )
        while (workers := self._workers()) < 1:
            if _since(started) > self.request.dask_bound:
                return self._fail(
                    "dask worker",
                    "no worker joined the cluster",
                    f"one worker within {self.request.dask_bound:g} s",
                    f"{workers} workers",
                    started,
                    todo="check the worker pods (node group capacity, spot interruptions)",
                )
            time.sleep(self.request.poll_seconds)
        return self._pass("dask worker", f"a worker joined cluster {self.cluster}", started)

    def _workers(self) -> int:
        """How many workers the cluster's scheduler knows (its dashboard's identity)."""
        path = f"{GATEWAY}/clusters/{self.cluster}/json/identity.json"
        answer = ask(self.address, self.name, path, tls=True)
        if answer.status != 200:
            return 0
        return len(answer.json().get("workers") or {})

    def _clean_up(self) -> None:
        if self.cluster:
            started = time.monotonic()
            try:
                answer = self._gateway("DELETE", f"/api/v1/clusters/{self.cluster}")
                ok = answer.status in (200, 204)
                got = f"HTTP {answer.status}"
            except HubHttpError as exc:
                ok, got = False, str(exc)
            self._step("dask shutdown", ok, f"cluster {self.cluster} shut down", got, started)
        if self.server_started:
            started = time.monotonic()
            user = quote(self.target.user, safe="")
            try:
                answer = self._hub("DELETE", f"/hub/api/users/{user}/server")
                # 400 "... is not running": a start that never began leaves nothing to stop.
                ok = answer.status in (202, 204) or (
                    answer.status == 400 and b"not running" in answer.body
                )
                got = f"HTTP {answer.status}: {answer.body[:200]!r}"
            except HubHttpError as exc:
                ok, got = False, str(exc)
            self._step("server stop", ok, f"{self.target.user}'s server stopped", got, started)

    # -- asking, and saying -----------------------------------------------------------------

    def _hub(self, method: str, path: str) -> Answer:
        headers = {"Authorization": f"token {self.secret}"}
        return ask(
            self.address, self.name, path, tls=True, method=method, headers=headers,
            timeout=API_TIMEOUT,
        )  # fmt: skip

    def _gateway(self, method: str, path: str, body: dict | None = None) -> Answer:
        headers = {"Authorization": f"jupyterhub {self.secret}"}
        return ask(
            self.address, self.name, GATEWAY + path, tls=True, method=method, headers=headers,
            body=body, timeout=API_TIMEOUT,
        )  # fmt: skip

    def _step(self, name: str, ok: bool, said: str, got: str, started: float) -> None:
        if ok:
            self._pass(name, said, started)
        else:
            self._fail(name, f"not done: {said}", "done", got, started, todo="do it by hand")

    def _pass(self, name: str, said: str, started: float) -> bool:
        self.add(Step(name, True, said, self.address, _since(started)))
        return True

    def _fail(
        self,
        name: str,
        said: str,
        expected: str,
        got: str | None = None,
        started: float | None = None,
        todo: str | None = None,
    ) -> bool:
        seconds = _since(started) if started is not None else 0.0
        self.add(Step(name, False, said, self.address, seconds, expected, got, todo))
        return False

"""Can users log in? What the health check (`invoke health`, and every supervised apply whose
routing holds) judges, with no I/O: the tree's `health_check` output, each step's finding, and
the verdict on them.

The check walks the path a user takes through the hub's public name, on every address the name
resolves to: TLS (the chain and the name, and how long the certificate has left), the hub's
`/hub/health`, plain http sent on to https, HSTS, the login's redirect to the environment's
identity provider with its own client id and callback, and `Secure` on every cookie set over
https. The journey (a user's server started, reached and stopped; a Dask cluster created, given a
worker and shut down) follows where the environment asks for it. A step that fails says what was
expected, what came back, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

OUTPUT_NAME = "health_check"
# A certificate ending within this many days is a finding: ACM renews weeks ahead, so one this
# close has failed to renew (a validation record gone, a domain moved).
DEFAULT_EXPIRY_DAYS = 21
HEALTH_PATH = "/hub/health"
# Dummy authentication (cae-testing) has the hub's own login form.
FORM_LOGIN_PATH = "/hub/login"
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT_REDIRECTS = (301, 308)


@dataclass(frozen=True)
class Login:
    """Where the hub's login must send users: the environment's identity provider (Cognito)."""

    start_path: str  # the hub's path that starts the login ("/hub/oauth_login")
    authorize_url: str
    client_id: str
    redirect_uri: str  # https://DOMAIN/hub/oauth_callback


@dataclass(frozen=True)
class HealthTarget:
    """The tree's `health_check` output: what the check needs to know of the hub (no secret)."""

    hostname: str | None  # the public name (None: no domain, the load balancer's is used)
    user: str  # the hub user the journey starts a server for
    journey: bool  # whether a supervised apply runs the journey too
    token_secret_id: str | None  # the Secrets Manager secret holding the journey's token
    login: Login | None = None  # None: the hub's own login form (dummy authentication)


@dataclass
class Step:
    """One step of the check, on one address (or none: a journey step goes through one)."""

    name: str
    ok: bool
    said: str  # what was found, in one line
    address: str | None = None
    seconds: float = 0.0
    expected: str | None = None
    got: str | None = None
    todo: str | None = None

    def lines(self) -> list[str]:
        where = f" [{self.address}]" if self.address else ""
        mark = "ok  " if self.ok else "FAIL"
        lines = [f"{mark} {self.name}{where}: {self.said} ({self.seconds:.2f} s)"]
        if not self.ok:
            lines += [f"       expected: {self.expected}"] if self.expected else []
            lines += [f"       got: {self.got}"] if self.got else []
            lines += [f"       to do: {self.todo}"] if self.todo else []
        return lines


@dataclass
class HealthResult:
    """The check's steps in the order they ran, and through what name."""

    name: str  # the name the check went through (the public name, or the load balancer's)
    steps: list[Step] = field(default_factory=list)
    journey: bool = False  # the journey ran
    # Why the check could not run at all (no address, no output): nothing proves users can log in.
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[Step]:
        return [step for step in self.steps if not step.ok]

    @property
    def failed(self) -> str:
        """The failed steps' names, each once, in the order they ran (or why none could run)."""
        names = ", ".join(dict.fromkeys(step.name for step in self.failures))
        return names or self.error or ""

    def headline(self, env_name: str) -> str:
        if self.healthy:
            journey = ", and the journey" if self.journey else ""
            return (
                f"Users can log in to {env_name}: every step passed through {self.name}{journey}."
            )
        if self.error:
            return f"Users may not be able to log in to {env_name}: {self.error}"
        return (
            f"Users may not be able to log in to {env_name}: {self.failed} failed through "
            f"{self.name}."
        )

    def lines(self, env_name: str) -> list[str]:
        return [self.headline(env_name), *(line for step in self.steps for line in step.lines())]


# -- the rules, each over what one answer said -------------------------------------------------


def certificate_finding(
    not_after: datetime, now: datetime, days: int = DEFAULT_EXPIRY_DAYS
) -> tuple[bool, str]:
    """Whether a verified certificate has long enough left, and its expiry in words."""
    left = not_after - now
    when = not_after.strftime("%Y-%m-%d %H:%M UTC")
    if left < timedelta(days=days):
        return False, f"the certificate expires {when}, in {max(left.days, 0)} days"
    return True, f"the certificate is valid until {when} ({left.days} days)"


def https_redirect_problem(status: int, location: str | None, hostname: str) -> str | None:
    """Why plain http's answer is not a permanent redirect to the same name over https."""
    if status not in PERMANENT_REDIRECTS:
        return f"HTTP {status}" + (f" to {location}" if location else "")
    target = urlsplit(location or "")
    if target.scheme != "https" or (target.hostname or "") != hostname:
        return f"HTTP {status} to {location}"
    return None


def hsts_problem(value: str | None) -> str | None:
    """Why a Strict-Transport-Security header does not hold browsers to https."""
    if value is None:
        return "no Strict-Transport-Security header"
    for directive in value.split(";"):
        key, _, number = directive.strip().partition("=")
        if key.lower() == "max-age":
            if number.strip().strip('"').isdigit() and int(number.strip().strip('"')) > 0:
                return None
            return f"Strict-Transport-Security: {value} (max-age must be above 0)"
    return f"Strict-Transport-Security: {value} (no max-age)"


def login_redirect_problem(status: int, location: str | None, login: Login) -> str | None:
    """Why the login's answer does not send the user to the environment's identity provider
    with its own client id and callback."""
    if status not in REDIRECTS or not location:
        return f"HTTP {status}" + (f" to {location}" if location else " without a Location")
    target, expected = urlsplit(location), urlsplit(login.authorize_url)
    place = (target.scheme, target.netloc.lower(), target.path)
    if place != (expected.scheme, expected.netloc.lower(), expected.path):
        return f"a redirect to {target.scheme}://{target.netloc}{target.path}"
    query = parse_qs(target.query)
    for name, wanted in (("client_id", login.client_id), ("redirect_uri", login.redirect_uri)):
        given = query.get(name, [])
        if given != [wanted]:
            return f"{name}={','.join(given) or '(none)'}"
    return None


def insecure_cookies(set_cookie_headers: list[str]) -> list[str]:
    """The names of cookies set without `Secure` (over https every one must carry it)."""
    names = []
    for header in set_cookie_headers:
        cookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:  # a cookie this parser cannot read is no proof it is secure
            names.append(header.split("=", 1)[0].strip() or header)
            continue
        names += [name for name, morsel in cookie.items() if not morsel["secure"]]
    return names


def login_form_problem(status: int, body: bytes) -> str | None:
    """Why the hub's own login page (dummy authentication) is not a login form."""
    text = body.decode("utf-8", "replace")
    if status != 200:
        return f"HTTP {status}"
    if "<form" not in text or 'name="username"' not in text:
        return "HTTP 200 without a login form (no <form> with a username field)"
    return None

"""AWS clients and the one retry policy every AWS call goes through.

Clients honour the standard boto3 settings (credentials chain, `AWS_ENDPOINT_URL`, profiles).
botocore's own retries are switched off so that tenacity's policy is the only one: exponential
backoff with jitter for throttling, 5xx and connection faults, bounded in total time
(`HUBOPS_AWS_RETRY_SECONDS`, default 60; a connection that cannot be made at all, 8 at most), and
no retry at all for access-denied or validation errors. Error messages are scrubbed of
credentials before anyone sees them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from hubops.adapters.secrets import redact, remember_secrets
from hubops.adapters.settings import number as number_setting
from hubops.facts.errors import AwsError
from hubops.facts.settings import AWS_RETRY_SECONDS

log = logging.getLogger(__name__)

RETRY_SECONDS_VARIABLE = AWS_RETRY_SECONDS
_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "PriorRequestNotComplete",
    "RequestTimeout",
    "RequestTimeoutException",
}
# Codes that mean "these credentials cannot do this here": the fix is the operator's, not a retry.
_CREDENTIAL_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
}


# AwsError.code of the faults that are not AWS's answer but the lack of one.
UNREACHABLE = "Unreachable"  # no connection to AWS (network, endpoint), after the retry bound
CONFIG = "AwsConfig"  # the shell's AWS settings cannot be used (profile, config file)
SSO_LOGIN = "SsoLogin"  # an SSO profile whose login is missing or expired
NO_CREDENTIALS = "NoCredentials"


# A connection that cannot be made (refused, no route, an endpoint name that does not resolve)
# does not heal while an operator waits: its own short bound, so that they hear of it at once.
CONNECT_RETRY_SECONDS = 8.0


def retry_seconds() -> float:
    """The bound on one call's total time, retries included, read when the call starts."""
    return number_setting(RETRY_SECONDS_VARIABLE)


@functools.cache
def _model_loader():
    """botocore's reader of service models, shared: parsing them is most of a client's cost."""
    from botocore.loaders import create_loader

    return create_loader()


# Sessions and clients made in this process, by `_settings()` (and a client's service and
# region): a run asks for the same client several times (the bucket's checks, the records, the
# load balancers), and making a session (its handlers) and a client cost about 20 ms each.
_sessions: dict[tuple, Any] = {}
_clients: dict[tuple, Any] = {}


def forget_clients() -> None:
    """Make every session and client anew from here on (as a new process would)."""
    _sessions.clear()
    _clients.clear()


def _settings() -> tuple:
    """What a session is made from: this process's variables and the AWS files they name (by
    path, size and time of change), so that a change to any of them makes a new session and new
    clients rather than reusing those made before it."""
    home = os.path.expanduser("~")
    stamps = []
    for variable, default in (
        ("AWS_CONFIG_FILE", f"{home}/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", f"{home}/.aws/credentials"),
    ):
        path = os.environ.get(variable) or default
        try:
            found = os.stat(path)
        except OSError:
            stamps.append((path, None))
        else:
            stamps.append((path, (found.st_size, found.st_mtime_ns)))
    return tuple(sorted(os.environ.items())), tuple(stamps)


def client(service: str, region: str):
    """A boto3 client for `service` in `region` with short timeouts and botocore retries off.

    It is made the first time it is asked for with the current settings (`_settings`), from the
    session those settings make, and reused after; only the (immutable) service models are shared
    between sessions. The credentials a session resolved (from the variables, a profile, SSO or a
    credentials file) are remembered for redaction. A profile or config file that cannot be used
    raises `AwsError` saying what to fix.
    """
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    settings = _settings()
    key = (service, region, settings)
    if key in _clients:
        return _clients[key]
    config = Config(
        region_name=region,
        connect_timeout=5,
        read_timeout=30,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    try:
        session = _sessions.get(settings) or _new_session()
        made = session.client(service, config=config)
        _remember_credentials(session)
    except BotoCoreError as exc:
        raise _settings_error(exc, service) or AwsError(
            redact(f"AWS {service} failed: {exc}. Check your AWS settings and try again.")
        ) from exc
    _sessions[settings] = session  # only once it has made a client and its credentials were read
    _clients[key] = made
    return made


def _new_session():
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _model_loader())
    return boto3.session.Session(botocore_session=core)


def _remember_credentials(session) -> None:
    """Tell `hubops.adapters.secrets` the credentials this session resolved, from any source."""
    from botocore.exceptions import BotoCoreError

    credentials = session.get_credentials()
    if credentials is None:
        return  # the first call says there are none
    try:
        frozen = credentials.get_frozen_credentials()
    except BotoCoreError as exc:
        if _settings_error(exc, "credentials") is not None:
            raise
        return  # e.g. an assumed role out of reach: the first call retries it and says so
    remember_secrets(frozen.access_key, frozen.secret_key, frozen.token)


def profile_name() -> str:
    """The AWS profile this shell selects (AWS_PROFILE, AWS_DEFAULT_PROFILE, else "default")."""
    return os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def _settings_error(exc: BaseException, name: str) -> AwsError | None:
    """The shell's AWS settings, not AWS, are at fault: one sentence saying what to fix."""
    from botocore import exceptions as e

    profile = profile_name()
    config_file = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    if isinstance(exc, e.ProfileNotFound):
        return AwsError(
            f"AWS profile {profile!r} (AWS_PROFILE) is not in your AWS config ({config_file}): "
            "set AWS_PROFILE to one of `aws configure list-profiles`, or unset it.",
            code=CONFIG,
        )
    if isinstance(exc, e.ConfigParseError):
        path = exc.kwargs.get("path", config_file)
        return AwsError(
            f"Your AWS config file {path} cannot be parsed: fix its syntax (sections are "
            "`[profile NAME]` followed by `key = value` lines), or point AWS_CONFIG_FILE at "
            "another file.",
            code=CONFIG,
        )
    if isinstance(exc, e.InvalidConfigError):
        return AwsError(
            redact(
                f"Your AWS config is not usable: {exc} Fix profile {profile!r} in {config_file} "
                "(`aws configure list-profiles` lists the profiles), or choose another with "
                "AWS_PROFILE."
            ),
            code=CONFIG,
        )
    sso_errors = tuple(
        getattr(e, n)
        for n in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError")
        if hasattr(e, n)
    )
    if isinstance(exc, sso_errors) or (
        isinstance(exc, getattr(e, "SSOError", ())) and "token" in str(exc).lower()
    ):
        return AwsError(
            f"AWS {name} failed: the SSO login of AWS profile {profile!r} is missing or has "
            f"expired. Run `aws sso login --profile {profile}` and try again.",
            code=SSO_LOGIN,
        )
    if isinstance(exc, (e.NoCredentialsError, e.PartialCredentialsError)):
        return AwsError(
            f"AWS {name} failed: no usable AWS credentials. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the environment's account and try again.",
            code=NO_CREDENTIALS,
        )
    return None


def error_code(exc: BaseException) -> str:
    """AWS's error code for a botocore ClientError, "" for anything else."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""


def is_transient(exc: BaseException) -> bool:
    """Throttling, server-side (5xx) and connection faults are worth retrying; nothing else."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in _THROTTLING or status >= 500
    return False


def _cannot_connect(exc: BaseException | None) -> bool:
    """No connection could be made at all (as opposed to throttling, 5xx or a dropped reply)."""
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    return isinstance(exc, (EndpointConnectionError, ConnectTimeoutError))


def _bound_for(exc: BaseException | None, bound: float) -> float:
    return min(bound, CONNECT_RETRY_SECONDS) if _cannot_connect(exc) else bound


def _stop_before(bound: float):
    """Never start a sleep that would end past the bound of the fault at hand: the total time
    stays bounded (by `bound`, or by the shorter one of a connection that cannot be made)."""
    import tenacity

    def stop(state) -> bool:
        return tenacity.stop_before_delay(_bound_for(state.outcome.exception(), bound))(state)

    return stop


def _log_retry(name: str):
    def before_sleep(state) -> None:
        exc = state.outcome.exception()
        reason = error_code(exc) or type(exc).__name__
        log.warning(
            "AWS %s: %s (attempt %d); retrying in %.1fs",
            name,
            reason,
            state.attempt_number,
            state.upcoming_sleep,
        )

    return before_sleep


def call(operation: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call one AWS API operation (a bound client method) under the retry policy.

    A fault that outlasts the policy, or one that is not transient, becomes `AwsError` naming the
    operation and carrying AWS's error code; its message never carries credentials. The botocore
    exception is chained for debugging.
    """
    import tenacity
    from botocore.exceptions import BotoCoreError, ClientError

    name = getattr(operation, "__name__", "call")
    bound = retry_seconds()
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=5),
        stop=_stop_before(bound),
        before_sleep=_log_retry(name),
        reraise=True,
    )
    try:
        return retrying(operation, **kwargs)
    except ClientError as exc:
        code = error_code(exc) or "error"
        message = exc.response.get("Error", {}).get("Message", "")
        text = f"AWS {name} failed: {code}: {message}".rstrip(": ")
        if code in _CREDENTIAL_CODES and name == "get_caller_identity":
            # This is the identity check itself (whoami, doctor, preflight): it cannot advise
            # itself, only name the credentials to change.
            text = text.rstrip(".") + (
                ". AWS did not accept your shell's credentials: set valid ones for the "
                "environment's account (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                "AWS_PROFILE; `aws configure list` shows which are in use) and try again."
            )
        elif code in _CREDENTIAL_CODES:
            text = text.rstrip(".") + (
                ". Check that your shell's AWS credentials belong to the environment's account "
                "and may do this (`invoke whoami --env ENV` shows who you are)."
            )
        elif is_transient(exc):
            text += f" (still failing after retrying for {bound:g}s; try again later)"
        raise AwsError(redact(text), code=code) from exc
    except BotoCoreError as exc:
        settings = _settings_error(exc, name)
        if settings is not None:
            raise settings from exc
        transient = is_transient(exc)
        retried = f" (after retrying for {_bound_for(exc, bound):g}s)" if transient else ""
        raise AwsError(
            redact(
                f"AWS {name} failed: {exc}{retried}. Check your network and AWS settings "
                "(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and try again."
            ),
            code=UNREACHABLE if transient else "",
        ) from exc


def paginate(client_, operation: str, result_key: str, /, **kwargs: Any) -> list:
    """All items of a paginated operation, each page fetched under the retry policy."""
    items: list = []
    token_in, token_out = _PAGINATION_TOKENS.get(operation, ("Marker", "NextMarker"))
    method = getattr(client_, operation)
    while True:
        page = call(method, **kwargs)
        items.extend(page.get(result_key, []))
        token = page.get(token_out)
        if not token:
            return items
        kwargs[token_in] = token


_PAGINATION_TOKENS = {
    "describe_load_balancers": ("Marker", "NextMarker"),
    "list_objects_v2": ("ContinuationToken", "NextContinuationToken"),
}

"""AWS clients and the one retry policy every AWS call goes through.

Clients honour the standard boto3 settings (credentials chain, `AWS_ENDPOINT_URL`, profiles).
botocore's own retries are switched off so that tenacity's policy is the only one: exponential
backoff with jitter for throttling, 5xx and connection faults, bounded in total time, and no
retry at all for access-denied or validation errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hubops.errors import AwsError

# Bounded total time for one call, retries included; tests shorten it.
RETRY_SECONDS = float(os.environ.get("HUBOPS_AWS_RETRY_SECONDS", "60"))
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
}


def client(service: str, region: str):
    """A boto3 client for `service` in `region` with short timeouts and botocore retries off."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        connect_timeout=5,
        read_timeout=30,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return boto3.session.Session().client(service, config=config)


def is_transient(exc: BaseException) -> bool:
    """Throttling, server-side (5xx) and connection faults are worth retrying; nothing else."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _THROTTLING or status >= 500
    return False


def call(operation: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call one AWS API operation (a bound client method) under the retry policy.

    A fault that outlasts the policy, or one that is not transient, becomes `AwsError` naming the
    operation; the original exception is chained for debugging and never carries credentials.
    """
    import tenacity
    from botocore.exceptions import BotoCoreError, ClientError

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=5),
        stop=tenacity.stop_after_delay(RETRY_SECONDS),
        reraise=True,
    )
    name = getattr(operation, "__name__", "call")
    try:
        return retrying(operation, **kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(
            f"AWS {name} failed: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip()
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(
            f"AWS {name} failed: {exc}. Check your network and AWS settings "
            "(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and try again."
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
}

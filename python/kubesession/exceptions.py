"""kubesession's exceptions. ``KubeError`` is the base of all of them.

Transport errors mirror requests' names (``ConnectionError``, ``SSLError``, ``Timeout``);
API errors are chosen from the Kubernetes ``Status`` reason, so ``AlreadyExists`` and
``Conflict`` (both HTTP 409) and ``Gone`` (410 or reason Expired) can be caught apart::

    try:
        s.post("/api/v1/namespaces/default/configmaps", json=cm).raise_for_status()
    except ks.AlreadyExists:
        ...
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "KubeError", "ConfigError", "AuthError", "ConnectionError", "SSLError", "Timeout",
    "ConnectTimeout", "ReadTimeout", "InsecureTransportError", "InvalidRequest", "StreamError",
    "SessionClosed", "JSONDecodeError", "ApiError", "BadRequest", "Unauthorized", "Forbidden",
    "NotFound", "MethodNotAllowed", "AlreadyExists", "Conflict", "Gone", "Invalid",
    "TooManyRequests", "ServerError", "InsecureRequestWarning",
]


class KubeError(Exception):
    """Base class of every kubesession error."""


class ConfigError(KubeError, ValueError):
    """A kubeconfig, in-cluster folder or argument is malformed or incomplete.

    The message names the file, the context and the key at fault.
    """


class AuthError(KubeError):
    """A credential could not be obtained (unreadable token file, unsupported plugin)."""


class ConnectionError(KubeError, builtins.ConnectionError):
    """The server could not be reached, or the connection broke."""


class SSLError(ConnectionError):
    """TLS failed. The message says why, which server name was checked and which CA was trusted."""


class Timeout(KubeError, builtins.TimeoutError):
    """The server did not answer in time."""


class ConnectTimeout(ConnectionError, Timeout):
    """No connection could be made in time."""


class ReadTimeout(Timeout):
    """The server sent nothing for longer than the read timeout."""


class InsecureTransportError(KubeError):
    """A credential would have been sent over plain http (pass ``allow_insecure_http=True``)."""


class InvalidRequest(KubeError, ValueError):
    """The request cannot be made as given (bad URL, method or header)."""


class StreamError(KubeError):
    """A streamed body could not be read as asked (a line over the limit, a body already consumed)."""


class SessionClosed(KubeError):
    """The Session was closed."""


class JSONDecodeError(KubeError, ValueError):
    """The body is not valid JSON."""


class ApiError(KubeError):
    """The API server answered with an error status.

    Attributes: ``status_code`` (HTTP code), ``reason`` (the Status reason, e.g. ``"NotFound"``),
    ``message`` (the server's message), ``details`` and ``status`` (the Status body as a dict,
    or None when the body was not a Status), ``url``.
    """

    def __init__(
        self,
        text: str,
        *,
        status_code: int = 0,
        reason: str = "",
        message: str = "",
        details: Any = None,
        status: dict[str, Any] | None = None,
        retry_after: float | None = None,
        url: str = "",
    ) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.reason = reason
        self.message = message
        self.details = details
        self.status = status
        self.retry_after = retry_after
        self.url = url


class BadRequest(ApiError):
    """400 BadRequest."""


class Unauthorized(ApiError):
    """401: the credential is missing, wrong or expired."""


class Forbidden(ApiError):
    """403: authenticated, but RBAC does not allow this."""


class NotFound(ApiError):
    """404 NotFound."""


class MethodNotAllowed(ApiError):
    """405 MethodNotAllowed."""


class AlreadyExists(ApiError):
    """409 with reason AlreadyExists: create of an object that exists."""


class Conflict(ApiError):
    """409 Conflict: usually a stale resourceVersion on update."""


class Gone(ApiError):
    """410, or reason Expired/Gone: the resourceVersion is too old."""


class Invalid(ApiError):
    """422 Invalid: the object failed validation; ``details["causes"]`` lists the fields."""


class TooManyRequests(ApiError):
    """429: throttled. ``retry_after`` holds the server's Retry-After in seconds, if any."""


class ServerError(ApiError):
    """5xx from the API server."""


class InsecureRequestWarning(UserWarning):
    """A request was sent without TLS verification (``verify=False`` or insecure-skip-tls-verify)."""

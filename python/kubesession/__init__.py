"""kubesession: a secure, fast, requests-like client for Kubernetes and OpenShift.

    import kubesession as ks
    with ks.Session() as s:            # kubeconfig, else in-cluster; TLS always verified
        pods = s.get(f"/api/v1/namespaces/{s.namespace}/pods").json()
"""

from ._core import Response, __version__
from .exceptions import (
    AlreadyExists,
    ApiError,
    AuthError,
    BadRequest,
    ConfigError,
    Conflict,
    ConnectionError,
    ConnectTimeout,
    Forbidden,
    Gone,
    InsecureRequestWarning,
    InsecureTransportError,
    Invalid,
    InvalidRequest,
    JSONDecodeError,
    KubeError,
    MethodNotAllowed,
    NotFound,
    ReadTimeout,
    ServerError,
    SessionClosed,
    SSLError,
    StreamError,
    Timeout,
    TooManyRequests,
    Unauthorized,
)
from .sessions import PATCH_TYPES, Session
from .structures import Headers

__all__ = [
    "Session", "Response", "Headers", "PATCH_TYPES", "__version__",
    "KubeError", "ConfigError", "AuthError", "ConnectionError", "SSLError", "Timeout",
    "ConnectTimeout", "ReadTimeout", "InsecureTransportError", "InvalidRequest", "StreamError",
    "SessionClosed", "JSONDecodeError", "ApiError", "BadRequest", "Unauthorized", "Forbidden",
    "NotFound", "MethodNotAllowed", "AlreadyExists", "Conflict", "Gone", "Invalid",
    "TooManyRequests", "ServerError", "InsecureRequestWarning",
]

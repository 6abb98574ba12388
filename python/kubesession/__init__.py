"""kubesession: a secure, fast, requests-like client for Kubernetes and OpenShift.

    import kubesession as ks
    with ks.Session() as s:            # kubeconfig, else in-cluster; TLS always verified
        pods = s.get(f"/api/v1/namespaces/{s.namespace}/pods").json()
"""

import atexit as _atexit
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._core import AsyncWatch, Response, Watch, WatchEvent, __version__
from ._core import _shutdown as _shutdown_runtime
from .accounts import ServiceAccountTokenSource
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
from .openshift import login
from .sessions import PATCH_TYPES, AsyncSession, Session
from .structures import Headers

if _TYPE_CHECKING:
    from . import testing as testing

# Stop the I/O runtime before the interpreter finalizes (see _core._shutdown).
_atexit.register(_shutdown_runtime)


def __getattr__(name: str) -> object:
    # `ks.testing` without importing it (and the FakeCluster machinery) at `import kubesession`.
    if name == "testing":
        import importlib

        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Session", "AsyncSession", "ServiceAccountTokenSource", "login", "Response", "Watch", "AsyncWatch", "WatchEvent", "Headers", "PATCH_TYPES",
    "__version__",
    "KubeError", "ConfigError", "AuthError", "ConnectionError", "SSLError", "Timeout",
    "ConnectTimeout", "ReadTimeout", "InsecureTransportError", "InvalidRequest", "StreamError",
    "SessionClosed", "JSONDecodeError", "ApiError", "BadRequest", "Unauthorized", "Forbidden",
    "NotFound", "MethodNotAllowed", "AlreadyExists", "Conflict", "Gone", "Invalid",
    "TooManyRequests", "ServerError", "InsecureRequestWarning",
]

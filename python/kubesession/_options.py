"""The keyword arguments of Sessions and their requests, as types, so that a type checker
catches a misspelt or mistyped keyword (``ks.Session(tokn=...)``, ``s.get(p, stream="yes")``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict, Union

Params = Union[Mapping[str, Any], Iterable[tuple[str, Any]], None]
TimeoutArg = Union[float, tuple[Union[float, None], Union[float, None]], None]
PathLike = Union[str, "os.PathLike[str]"]


class _Connection(TypedDict, total=False):
    client_cert: PathLike | None
    client_key: PathLike | None
    client_cert_data: str | bytes | None
    client_key_data: str | bytes | None
    tls_server_name: str | None
    proxy: str | None
    timeout: TimeoutArg
    namespace: str | None
    headers: Mapping[str, str] | None
    retries: int
    allow_insecure_http: bool
    http2: bool


class ClusterSessionOptions(_Connection, total=False):
    """The Session keywords of ``FakeCluster.session`` (it brings the token and the CA)."""

    follow_redirects: bool


class LoginOptions(_Connection, total=False):
    """The Session keywords that ``ks.login`` passes on (it brings its own token)."""

    ca_data: str | bytes | None
    verify: bool | PathLike


class SessionOptions(LoginOptions, total=False):
    """The keywords of ``Session(...)``, ``AsyncSession(...)`` and their constructors."""

    token: str | Callable[[], str] | None
    token_file: PathLike | None
    ca_file: PathLike | None
    follow_redirects: bool


class ContextSessionOptions(SessionOptions, total=False):
    """The Session keywords, with the kubeconfig ``context`` to use."""

    context: str | None


class _Sending(TypedDict, total=False):
    headers: Mapping[str, str] | None
    timeout: TimeoutArg
    stream: bool


class _WithParams(_Sending, total=False):
    params: Params


class GetOptions(_Sending, total=False):
    """The keywords of ``get`` after ``params``."""

    json: Any
    data: str | bytes | Mapping[str, Any] | None
    content_type: str | None


class RequestOptions(GetOptions, total=False):
    """The keywords of ``head``, ``options`` and ``delete``: anything ``request`` takes."""

    params: Params


class BodyOptions(_WithParams, total=False):
    """The keywords of ``post`` and ``put`` after the body."""

    content_type: str | None


class PatchOptions(_WithParams, total=False):
    """The keywords of ``patch`` after the body and content type."""

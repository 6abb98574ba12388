"""The Session: a configured, authenticated connection to one Kubernetes API server."""

from __future__ import annotations

import json as _json
import logging
import os
import time as _time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from . import _core
from ._options import (
    BodyOptions,
    ContextSessionOptions,
    GetOptions,
    Params,
    PatchOptions,
    PathLike,
    RequestOptions,
    SessionOptions,
    TimeoutArg,
)
from .exceptions import InsecureRequestWarning
from .structures import Headers

#: DEBUG: one record per request (method, URL without its query, status, elapsed, retries)
#: and per watch started. Never headers, bodies, tokens or query strings: nothing secret.
log = logging.getLogger("kubesession")

if TYPE_CHECKING:
    from typing import Unpack

    from .informers import Informer
    from .registry import Registry

__all__ = ["Session", "AsyncSession", "PATCH_TYPES"]

# Short names for the patch content types (`s.patch(path, json=..., content_type="json")`).
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "json-patch": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "strategic-merge": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
_APPLY = "application/apply-patch+yaml"


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


_UNSET: Any = _Unset()

_S = TypeVar("_S", bound="_SessionBase")


def _timeout(value: TimeoutArg) -> tuple[float | None, float | None]:
    if value is None:
        return (None, None)
    if isinstance(value, tuple):
        connect, read = value
        return (None if connect is None else float(connect), None if read is None else float(read))
    return (float(value), float(value))


def _param_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _params(params: Params) -> list[tuple[str, str]] | None:
    if not params:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out.extend((key, _param_value(v)) for v in value)
        else:
            out.append((key, _param_value(value)))
    return out


def _pem(value: str | bytes | None) -> bytes | None:
    if value is None:
        return None
    return value.encode() if isinstance(value, str) else bytes(value)


def _path(value: PathLike | None) -> str | None:
    return None if value is None else os.fspath(value)


def _list_query(limit: int, label_selector: str | None, field_selector: str | None,
                params: dict[str, Any]) -> dict[str, Any] | None:
    return dict(params, limit=limit, labelSelector=label_selector, fieldSelector=field_selector)


def _page(body: dict[str, Any], query: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page's items, and the query for the next page (None after the last)."""
    token = (body.get("metadata") or {}).get("continue")
    return list(body.get("items") or ()), (dict(query, **{"continue": token}) if token else None)


def _log_response(method: str, r: _core.Response) -> None:
    retries = f" after {r.retries} retr{'y' if r.retries == 1 else 'ies'}" if r.retries else ""
    log.debug("%s %s -> %d %s in %.1f ms%s", method, r.url, r.status_code, r.reason,
              r.elapsed.total_seconds() * 1000, retries)


def _log_failure(method: str, url: str, start: float, error: Exception) -> None:
    # The core's messages name the host and path, never a query, header or credential.
    log.debug("%s %s failed after %.1f ms: %s: %s", method, _strip_query(url),
              (_time.perf_counter() - start) * 1000, type(error).__name__, error)


def _strip_query(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc.rpartition("@")[2], p.path, "", ""))


class _SessionBase:
    """Configuration and request preparation shared by Session and AsyncSession (one
    implementation behind both faces, as in httpx): everything but the I/O itself."""

    def __init__(self, server: str | None = None, **kwargs: Unpack[ContextSessionOptions]) -> None:
        self._configure(server, **kwargs)

    def _configure(
        self,
        server: str | None = None,
        *,
        token: str | Callable[[], str] | None = None,
        token_file: PathLike | None = None,
        ca_file: PathLike | None = None,
        ca_data: str | bytes | None = None,
        client_cert: PathLike | None = None,
        client_key: PathLike | None = None,
        client_cert_data: str | bytes | None = None,
        client_key_data: str | bytes | None = None,
        verify: bool | PathLike = _UNSET,
        tls_server_name: str | None = None,
        proxy: str | None = None,
        timeout: TimeoutArg = _UNSET,
        namespace: str | None = None,
        headers: Mapping[str, str] | None = None,
        retries: int = 3,
        allow_insecure_http: bool = False,
        http2: bool = False,
        follow_redirects: bool = True,
        context: str | None = None,
        _source: str = "auto",
        _kubeconfig: list[str] | None = None,
        _service_account_dir: str | None = None,
        _stacklevel: int = 3,
    ) -> None:
        insecure: bool | None = None
        if verify is False:
            insecure = True
        elif verify is True:
            insecure = False
        elif verify is not _UNSET:
            if ca_file is not None or ca_data is not None:
                raise TypeError("pass the CA either as verify=<path> or as ca_file=/ca_data=, not both")
            ca_file = verify  # requests' spelling: verify="/path/to/ca.pem"
            insecure = False
        # What a login from this session reuses besides the CA (kept by the core).
        self._tls_settings: dict[str, Any] = dict(
            tls_server_name=tls_server_name, proxy=proxy, timeout=timeout, allow_insecure_http=allow_insecure_http,
            http2=http2,
        )
        token_provider = None
        if token is not None and not isinstance(token, str):
            if not callable(token):
                raise TypeError("token must be a string or a callable that returns one")
            token_provider, token = token, None
        self._client = _core.Client(
            source=_source,
            kubeconfig=_kubeconfig,
            context=context,
            service_account_dir=_service_account_dir,
            server=server,
            token=token,
            token_file=_path(token_file),
            ca_file=_path(ca_file),
            ca_data=_pem(ca_data),
            client_cert=_path(client_cert),
            client_key=_path(client_key),
            client_cert_data=_pem(client_cert_data),
            client_key_data=_pem(client_key_data),
            insecure=insecure,
            tls_server_name=tls_server_name,
            proxy=proxy,
            timeout=None if timeout is _UNSET else _timeout(timeout),
            namespace=namespace,
            allow_insecure_http=allow_insecure_http,
            retries=retries,
            http2=http2,
            token_provider=token_provider,
            follow_redirects=follow_redirects,
        )
        #: Headers sent with every request (a case-insensitive dict you may change).
        self.headers = Headers(headers)
        #: The namespace of the kubeconfig context (or in-cluster pod), else "default".
        self.namespace: str = self._client.namespace
        #: After ``ks.login``: the OAuth token's lifetime in seconds, as the server gave it.
        self.token_expires_in: int | None = None
        if self._client.insecure:
            warnings.warn(
                f"TLS verification is disabled for {self._client.server} ({self._client.origin}); "
                "anyone on the network path can read and change this traffic",
                InsecureRequestWarning,
                stacklevel=_stacklevel,
            )

    @classmethod
    def from_kubeconfig(
        cls: type[_S], path: PathLike | list[PathLike] | None = None, context: str | None = None,
        **kwargs: Unpack[SessionOptions],
    ) -> _S:
        """A session from kubeconfig file(s): ``path`` (a path or a list merged like
        KUBECONFIG), else ``$KUBECONFIG`` or ``~/.kube/config``; ``context`` defaults to
        current-context::

            s = ks.Session.from_kubeconfig("~/.kube/config", context="prod")
        """
        paths: list[str] | None
        if path is None:
            paths = None
        elif isinstance(path, (list, tuple)):
            paths = [os.path.expanduser(os.fspath(p)) for p in path]
        else:
            paths = [os.path.expanduser(os.fspath(path))]
        session = cls.__new__(cls)
        session._configure(context=context, _source="kubeconfig", _kubeconfig=paths, **kwargs)
        return session

    @classmethod
    def in_cluster(cls: type[_S], service_account_dir: PathLike | None = None, **kwargs: Unpack[SessionOptions]) -> _S:
        """A session from inside a pod: the service-account token (re-read as it rotates),
        its CA and namespace, and ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT``::

            s = ks.Session.in_cluster()
        """
        session = cls.__new__(cls)
        session._configure(_source="in_cluster", _service_account_dir=_path(service_account_dir), **kwargs)
        return session

    @property
    def server(self) -> str:
        """The API server URL."""
        return self._client.server

    @property
    def verify(self) -> bool:
        """False when TLS verification is disabled."""
        return not self._client.insecure

    @property
    def token(self) -> str | None:
        """The bearer token in use, from whichever source (what ``oc whoami --token``
        prints): the one place kubesession shows a token on purpose."""
        return self._client.token

    def _prepare(
        self,
        url: str,
        params: Params,
        headers: Mapping[str, str] | None,
        json: Any,
        data: str | bytes | Mapping[str, Any] | None,
        timeout: TimeoutArg,
        content_type: str | None,
    ) -> tuple[str, list[tuple[str, str]] | None, list[tuple[str, str]] | None, bytes | None,
               tuple[float | None, float | None] | None]:
        """The arguments of ``_core.Client.request`` between ``method`` and ``stream``."""
        merged = self.headers.copy() if self.headers else Headers()
        if headers:
            for key, value in headers.items():
                merged[key] = value
        body: bytes | None = None
        if json is not None:
            body = _json.dumps(json, separators=(",", ":")).encode()
            if "content-type" not in merged:
                merged["Content-Type"] = "application/json"
        elif data is not None:
            if isinstance(data, Mapping):
                from urllib.parse import urlencode

                body = urlencode(data).encode()
                if "content-type" not in merged:
                    merged["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = data.encode() if isinstance(data, str) else bytes(data)
        if content_type is not None:
            merged["Content-Type"] = PATCH_TYPES.get(content_type, content_type)
        query = _params(params)
        if merged.get("content-type") == _APPLY and not any(k == "fieldManager" for k, _ in query or ()):
            query = (query or []) + [("fieldManager", "kubesession")]
        if self._client.insecure:
            warnings.warn(f"unverified TLS request to {self._client.server}", InsecureRequestWarning, stacklevel=4)
        return (
            url,
            query,
            list(merged.items()) or None,
            body,
            None if timeout is _UNSET else _timeout(timeout),
        )

    def __repr__(self) -> str:
        state = " closed" if self._client.closed else ""
        return (
            f"<{type(self).__name__} {self._client.server} namespace={self.namespace!r} "
            f"auth={self._client.auth}{' verify=False' if self._client.insecure else ''}{state}>"
        )


class Session(_SessionBase):
    """An authenticated session with a Kubernetes or OpenShift API server.

    With no arguments it is configured like kubectl: ``$KUBECONFIG`` (several files merge,
    the first to set a value wins) or ``~/.kube/config``, else the in-cluster service
    account. TLS is always verified unless you pass ``verify=False``::

        import kubesession as ks
        s = ks.Session()
        pods = s.get(f"/api/v1/namespaces/{s.namespace}/pods").json()

        s = ks.Session("https://api.example:6443", token=token, ca_file="ca.crt")

    Keywords laid over the inferred configuration: ``token``, ``token_file``, ``ca_file``,
    ``ca_data`` (PEM), ``client_cert``/``client_key`` (paths),
    ``client_cert_data``/``client_key_data`` (PEM), ``verify`` (True, False, or a CA path),
    ``tls_server_name``, ``proxy``, ``timeout`` (seconds or ``(connect, read)``; default
    ``(10, 70)``; None waits forever), ``namespace``, ``headers``, ``retries`` (429/503 retries of
    idempotent requests, default 3), ``allow_insecure_http`` (let credentials travel over plain http),
    ``http2`` (negotiate HTTP/2; HTTP/1.1 by default, which is faster for sequential requests).
    """

    def request(
        self,
        method: str,
        url: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: str | bytes | Mapping[str, Any] | None = None,
        timeout: TimeoutArg = _UNSET,
        stream: bool = False,
        content_type: str | None = None,
    ) -> _core.Response:
        """Sends a request. ``url`` is a path joined to the server URL (keeping any path
        prefix of the server) or an absolute URL; credentials are only ever sent to the
        Session's own server::

            r = s.request("GET", "/api/v1/namespaces", params={"limit": 10})
        """
        url_, query, header_list, body, timeout_ = self._prepare(url, params, headers, json, data, timeout, content_type)
        if not log.isEnabledFor(logging.DEBUG):
            return self._client.request(method, url_, query, header_list, body, timeout_, stream)
        start = _time.perf_counter()
        try:
            r = self._client.request(method, url_, query, header_list, body, timeout_, stream)
        except Exception as e:
            _log_failure(method, url_, start, e)
            raise
        _log_response(method, r)
        return r

    def get(self, url: str, params: Params = None, **kwargs: Unpack[GetOptions]) -> _core.Response:
        """``GET url``. ``r = s.get("/api/v1/namespaces/default/pods")``"""
        return self.request("GET", url, params=params, **kwargs)

    def head(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, json: Any = None, data: Any = None, **kwargs: Unpack[BodyOptions]) -> _core.Response:
        """``POST url`` (create). ``s.post("/api/v1/namespaces/default/configmaps", json=cm)``"""
        return self.request("POST", url, json=json, data=data, **kwargs)

    def put(self, url: str, json: Any = None, data: Any = None, **kwargs: Unpack[BodyOptions]) -> _core.Response:
        """``PUT url`` (replace; send the object's resourceVersion to get optimistic locking)."""
        return self.request("PUT", url, json=json, data=data, **kwargs)

    def patch(
        self, url: str, json: Any = None, data: Any = None, content_type: str = "merge",
        **kwargs: Unpack[PatchOptions],
    ) -> _core.Response:
        """``PATCH url``. ``content_type`` is ``"merge"`` (default, merge-patch+json),
        ``"json"`` (RFC 6902 list of operations), ``"strategic"``, ``"apply"`` (server-side
        apply; ``fieldManager`` defaults to ``kubesession``) or a full MIME type::

            s.patch(path, json={"data": {"k": "v"}})
            s.patch(path, json=[{"op": "remove", "path": "/data/k"}], content_type="json")
        """
        return self.request("PATCH", url, json=json, data=data, content_type=content_type, **kwargs)

    def delete(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return self.request("DELETE", url, **kwargs)

    def watch(
        self,
        path: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
        *,
        bookmarks: bool = False,
        idle_timeout: float | None = None,
        server_timeout: tuple[int, int] | None = None,
        max_line: int = 64 * 1024 * 1024,
        transport: Literal["http", "websocket"] = "http",
    ) -> _core.Watch:
        """Watches a collection, correctly by default: lists first (each existing object
        arrives as ADDED) unless ``resource_version`` is given, then streams changes,
        reconnecting from the last delivered resourceVersion with jittered backoff when the
        stream ends, breaks or goes quiet for longer than ``idle_timeout``. A 410 relists and
        yields one ``RESYNC`` event whose ``object`` is the fresh list. ``timeout`` bounds the
        whole watch; without it the watch runs until ``stop()``. ``transport="websocket"``
        streams over a WebSocket upgrade of the same URL (same TLS, same semantics)::

            for ev in s.watch(f"/api/v1/namespaces/{s.namespace}/pods"):
                print(ev.type, ev.object["metadata"]["name"])
        """
        log.debug("watch %s from resourceVersion %r", _strip_query(path), resource_version)
        return self._client.watch(path, label_selector, field_selector, resource_version, timeout, bookmarks,
                                  idle_timeout, server_timeout, max_line, False, transport)

    def list_all(self, path: str, limit: int = 500, label_selector: str | None = None,
                 field_selector: str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``continue`` pages of ``limit`` items::

            for pod in s.list_all("/api/v1/pods", label_selector="app=web"):
                ...
        """
        query = _list_query(limit, label_selector, field_selector, params)
        while query is not None:
            r = self.get(path, params=query)
            r.raise_for_status()
            items, query = _page(r.json(), query)
            yield from items

    def informer(self, path: str, on_add: Any = None, on_update: Any = None, on_delete: Any = None,
                 **watch_kwargs: Any) -> "Informer":
        """A local cache of a collection kept in step by a watch, with handlers called from
        one background thread in event order::

            inf = s.informer("/api/v1/namespaces/ns/configmaps", on_add=print)
            inf.start(); inf.wait_synced(timeout=10); inf.store["ns/name"]; inf.stop()
        """
        from .informers import Informer

        return Informer(self, path, on_add=on_add, on_update=on_update, on_delete=on_delete, **watch_kwargs)

    def login(self, username: str, password: str) -> "Session":
        """OpenShift: a new Session for ``username`` on this session's server, with this
        session's TLS settings (``oc login -u USER``). See ``ks.login``."""
        from .openshift import login

        settings = {k: v for k, v in self._tls_settings.items() if v is not _UNSET}
        if self._client.insecure:
            settings["verify"] = False
        else:
            settings["ca_data"] = self._client.ca_pem  # the same trust, wherever it came from
        return login(self.server, username, password, **settings)

    def save_kubeconfig(self, path: PathLike | None = None, context: str | None = None) -> str:
        """Writes this session's server, CA and token into a kubeconfig as a context and
        makes it current, so that kubectl and oc reuse a login made here. ``path`` defaults
        to the first ``$KUBECONFIG`` entry, else ``~/.kube/config``; ``context`` to the
        server's ``host:port`` (dots as dashes, as oc names clusters). Other contexts are
        kept; the file is written atomically with mode 0600. Returns the context name."""
        if path is None:
            env = os.environ.get("KUBECONFIG", "")
            first = next((p for p in env.split(os.pathsep) if p), None)
            path = first or os.path.join(os.path.expanduser("~"), ".kube", "config")
        if context is None:
            from urllib.parse import urlsplit

            parts = urlsplit(self.server)
            context = f"{(parts.hostname or 'cluster').replace('.', '-')}:{parts.port or 443}"
        self._client.save_kubeconfig(os.fspath(path), context, self.namespace)
        return context

    def logout(self) -> None:
        """OpenShift: deletes this session's OAuth access token on the server and closes
        the session (``oc logout``)."""
        from .openshift import logout

        logout(self)

    def whoami(self) -> dict[str, Any]:
        """The current user (``oc whoami``): ``{"username", "uid", "groups", "extra", "source"}``."""
        from .accounts import whoami

        return whoami(self)

    def create_service_account(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """``oc create sa NAME``: creates a ServiceAccount and returns it."""
        from .accounts import create_service_account

        return create_service_account(self, name, namespace)

    def grant_role(self, role: str, service_account: str, namespace: str | None = None,
                   cluster_role: bool = True) -> dict[str, Any]:
        """``oc policy add-role-to-user ROLE -z SA``: a RoleBinding of ``role`` to the service account."""
        from .accounts import grant_role

        return grant_role(self, role, service_account, namespace, cluster_role)

    def create_token(self, service_account: str, namespace: str | None = None, expiration_seconds: int = 3600,
                     audiences: list[str] | None = None) -> str:
        """``oc create token SA``: a token from the TokenRequest API."""
        from .accounts import create_token

        return create_token(self, service_account, namespace, expiration_seconds, audiences)

    def registry_auth(self, registry: str) -> dict[str, Any]:
        """The Docker config entry of ``docker login -u unused -p <this session's token> REGISTRY``:
        ``{"auths": {"registry.example.com": {"auth": base64("unused:<token>")}}}``."""
        from .registry import registry_auth

        return registry_auth(self._bearer_token("registry_auth"), registry)

    def docker_login(self, registry: str, config_path: PathLike | None = None) -> str:
        """``docker login -u unused -p $(oc whoami -t) REGISTRY``: merges :meth:`registry_auth`
        into ``~/.docker/config.json`` (or ``config_path``), keeping other entries, mode 0600.
        Returns the file's path."""
        from .registry import docker_login

        return docker_login(self._bearer_token("docker_login"), registry, config_path)

    def registry(self, url: str, **kwargs: Any) -> "Registry":
        """A Docker Registry API v2 client that authenticates with this session's token::

            reg = s.registry("https://image-registry.apps.example.com")
            reg.tags("myproject/myapp")

        Keywords: ``ca_file``, ``ca_data``, ``verify`` (default: this session's trust),
        ``realm_hosts`` (other hosts allowed to receive the token for the exchange), ``timeout``."""
        from .registry import Registry

        return Registry(self, url, **kwargs)

    def _bearer_token(self, what: str) -> str:
        token = self.token
        if not token:
            from .exceptions import AuthError

            raise AuthError(f"{what} needs a bearer token, and this session authenticates with {self._client.auth}")
        return token

    def close(self) -> None:
        """Closes the connections. Requests afterwards raise ``SessionClosed``."""
        self._client.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSession(_SessionBase):
    """The Session for asyncio: the same constructors and keywords, every request a
    coroutine. Safe inside a running event loop (Jupyter)::

        async with ks.AsyncSession() as a:
            r = await a.get("/api/v1/namespaces")
            async for ev in a.watch(f"/api/v1/namespaces/{a.namespace}/pods"):
                ...
    """

    async def request(
        self,
        method: str,
        url: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: str | bytes | Mapping[str, Any] | None = None,
        timeout: TimeoutArg = _UNSET,
        stream: bool = False,
        content_type: str | None = None,
    ) -> _core.Response:
        """``await a.request("GET", path)``; with ``stream=True`` read the body with
        ``async for line in r.aiter_lines()``."""
        url_, query, header_list, body, timeout_ = self._prepare(url, params, headers, json, data, timeout, content_type)
        if not log.isEnabledFor(logging.DEBUG):
            return await self._client.request_async(method, url_, query, header_list, body, timeout_, stream)
        start = _time.perf_counter()
        try:
            r = await self._client.request_async(method, url_, query, header_list, body, timeout_, stream)
        except Exception as e:
            _log_failure(method, url_, start, e)
            raise
        _log_response(method, r)
        return r

    async def get(self, url: str, params: Params = None, **kwargs: Unpack[GetOptions]) -> _core.Response:
        return await self.request("GET", url, params=params, **kwargs)

    async def head(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return await self.request("OPTIONS", url, **kwargs)

    async def post(self, url: str, json: Any = None, data: Any = None, **kwargs: Unpack[BodyOptions]) -> _core.Response:
        return await self.request("POST", url, json=json, data=data, **kwargs)

    async def put(self, url: str, json: Any = None, data: Any = None, **kwargs: Unpack[BodyOptions]) -> _core.Response:
        return await self.request("PUT", url, json=json, data=data, **kwargs)

    async def patch(self, url: str, json: Any = None, data: Any = None, content_type: str = "merge",
                    **kwargs: Unpack[PatchOptions]) -> _core.Response:
        return await self.request("PATCH", url, json=json, data=data, content_type=content_type, **kwargs)

    async def delete(self, url: str, **kwargs: Unpack[RequestOptions]) -> _core.Response:
        return await self.request("DELETE", url, **kwargs)

    def watch(
        self,
        path: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
        *,
        bookmarks: bool = False,
        idle_timeout: float | None = None,
        server_timeout: tuple[int, int] | None = None,
        max_line: int = 64 * 1024 * 1024,
        transport: Literal["http", "websocket"] = "http",
    ) -> _core.AsyncWatch:
        """``async for ev in a.watch(path)``: the same semantics as ``Session.watch``."""
        log.debug("watch %s from resourceVersion %r", _strip_query(path), resource_version)
        return self._client.watch(path, label_selector, field_selector, resource_version, timeout, bookmarks,
                                  idle_timeout, server_timeout, max_line, True, transport)

    async def list_all(self, path: str, limit: int = 500, label_selector: str | None = None,
                       field_selector: str | None = None, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """``async for item in a.list_all(path)``: every item, following ``continue`` pages."""
        query = _list_query(limit, label_selector, field_selector, params)
        while query is not None:
            r = await self.get(path, params=query)
            r.raise_for_status()
            items, query = _page(r.json(), query)
            for item in items:
                yield item

    def informer(self, path: str, on_add: Any = None, on_update: Any = None, on_delete: Any = None,
                 **watch_kwargs: Any) -> "Informer":
        """``Session.informer`` on this session's connection: the informer runs on its own
        thread (as the sync one does) and calls the handlers there, not on the event loop."""
        from .informers import Informer

        twin = Session.__new__(Session)  # a blocking face over the same core client
        twin._client, twin.headers, twin.namespace = self._client, self.headers, self.namespace
        return Informer(twin, path, on_add=on_add, on_update=on_update, on_delete=on_delete, **watch_kwargs)

    async def aclose(self) -> None:
        self._client.close()

    def close(self) -> None:
        self._client.close()

    async def __aenter__(self) -> "AsyncSession":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.close()

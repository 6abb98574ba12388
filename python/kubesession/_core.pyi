"""Type stubs of the compiled Rust core. Users reach these through kubesession's
re-exports (`ks.Response`, `ks.Watch`, ...); `Client` is wrapped by `ks.Session`."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, Literal, final, overload

from .structures import Headers

__version__: str

_Timeout = tuple[float | None, float | None]
_EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "RESYNC"]

@final
class Client:
    server: str
    namespace: str
    insecure: bool
    origin: str
    auth: str
    closed: bool
    token: str | None
    ca_pem: bytes | None
    def __init__(
        self,
        *,
        source: str = "auto",
        kubeconfig: list[str] | None = None,
        context: str | None = None,
        service_account_dir: str | None = None,
        server: str | None = None,
        token: str | None = None,
        token_file: str | None = None,
        ca_file: str | None = None,
        ca_data: bytes | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        client_cert_data: bytes | None = None,
        client_key_data: bytes | None = None,
        insecure: bool | None = None,
        tls_server_name: str | None = None,
        proxy: str | None = None,
        timeout: _Timeout | None = None,
        namespace: str | None = None,
        allow_insecure_http: bool = False,
        retries: int = 3,
        http2: bool = False,
        token_provider: Callable[[], str] | None = None,
        follow_redirects: bool = True,
    ) -> None: ...
    def request(
        self,
        method: str,
        url: str,
        params: list[tuple[str, str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        timeout: _Timeout | None = None,
        stream: bool = False,
    ) -> Response: ...
    async def request_async(
        self,
        method: str,
        url: str,
        params: list[tuple[str, str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        timeout: _Timeout | None = None,
        stream: bool = False,
    ) -> Response: ...
    @overload
    def watch(
        self, path: str, label_selector: str | None, field_selector: str | None, resource_version: str | None,
        timeout: float | None, bookmarks: bool, idle_timeout: float | None, server_timeout: tuple[int, int] | None,
        max_line: int, asynchronous: Literal[False] = False, transport: str = "http",
    ) -> Watch: ...
    @overload
    def watch(
        self, path: str, label_selector: str | None, field_selector: str | None, resource_version: str | None,
        timeout: float | None, bookmarks: bool, idle_timeout: float | None, server_timeout: tuple[int, int] | None,
        max_line: int, asynchronous: Literal[True], transport: str = "http",
    ) -> AsyncWatch: ...
    def save_kubeconfig(self, path: str, context: str, namespace: str | None = None) -> None: ...
    def close(self) -> None: ...

@final
class Response:
    """An HTTP response. The body is read in the Rust core; `json()` decodes it there."""

    status_code: int
    ok: bool
    reason: str
    url: str
    method: str
    http_version: str
    retries: int
    elapsed: timedelta
    headers: Headers
    content: bytes
    body_loaded: bool
    def _repr_html_(self) -> str | None: ...
    def _repr_pretty_(self, p: Any, cycle: bool) -> None: ...
    text: str
    def json(self) -> Any: ...
    def raise_for_status(self) -> None: ...
    def iter_bytes(self, chunk_size: int | None = None) -> ByteIterator: ...
    def iter_lines(self, max_line: int = 67108864) -> LineIterator: ...
    def aiter_lines(self, max_line: int = 67108864) -> AsyncLineIterator: ...
    def close(self) -> None: ...
    def __enter__(self) -> Response: ...
    def __exit__(self, *args: object) -> bool: ...
    def __bool__(self) -> bool: ...

@final
class ByteIterator(Iterator[bytes]):
    def __iter__(self) -> ByteIterator: ...
    def __next__(self) -> bytes: ...

@final
class LineIterator(Iterator[bytes]):
    def __iter__(self) -> LineIterator: ...
    def __next__(self) -> bytes: ...

@final
class AsyncLineIterator:
    def __aiter__(self) -> AsyncLineIterator: ...
    async def __anext__(self) -> bytes: ...

@final
class WatchEvent:
    """`type` and the decoded `object` (for RESYNC: the fresh list)."""

    type: _EventType
    object: dict[str, Any]
    def _repr_html_(self) -> str | None: ...
    def _repr_pretty_(self, p: Any, cycle: bool) -> None: ...
    @overload
    def __getitem__(self, key: Literal["type"]) -> _EventType: ...
    @overload
    def __getitem__(self, key: Literal["object"]) -> dict[str, Any]: ...

@final
class Watch(Iterator[WatchEvent]):
    resource_version: str | None
    reconnects: int
    stopped: bool
    def __iter__(self) -> Watch: ...
    def __next__(self) -> WatchEvent: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Watch: ...
    def __exit__(self, *args: object) -> bool: ...

@final
class AsyncWatch:
    resource_version: str | None
    reconnects: int
    stopped: bool
    def __aiter__(self) -> AsyncWatch: ...
    async def __anext__(self) -> WatchEvent: ...
    def stop(self) -> None: ...
    async def __aenter__(self) -> AsyncWatch: ...
    async def __aexit__(self, *args: object) -> bool: ...

def loads(data: bytes) -> Any: ...
def _shutdown() -> None: ...

@final
class FakeCluster:
    server: str
    ca_pem: str
    admin_token: str
    resource_version: int
    def __init__(self, history: int = 10_000, bookmark_interval: float = 60.0) -> None: ...
    def add_user(self, name: str, token: str, rules: list[str]) -> None: ...
    def register(
        self, group: str, version: str, kind: str, plural: str, namespaced: bool = True, status: bool = True
    ) -> None: ...
    def fail_next(self, n: int, status: int = 503, retry_after: int | None = None) -> None: ...
    def latency(self, seconds: float) -> None: ...
    def drop_watches(self) -> None: ...
    def compact(self) -> None: ...
    def stop(self) -> None: ...

def yaml_documents_as_json(text: str) -> str: ...
def json_as_yaml(json: str) -> str: ...

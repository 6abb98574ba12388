"""``ks.testing.FakeCluster``: an in-process Kubernetes API server (written in the Rust
core) for test suites and demos, on 127.0.0.1 with a fresh CA and TLS::

    with ks.testing.FakeCluster() as cluster:
        s = cluster.session()
        s.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "a"}})

It serves any resource path generically: discovery for the built-in kinds and any
registered with :meth:`FakeCluster.register`; create, get, list, update, delete, merge-patch,
JSON-patch and server-side apply (applied as a merge); resourceVersion, uid,
creationTimestamp and generation; 409 on a stale resourceVersion; AlreadyExists, NotFound
and Invalid as real ``Status`` bodies; label selectors and ``metadata.name`` /
``metadata.namespace`` field selectors; ``limit``/``continue``; watches from a
resourceVersion with bookmarks, and 410 Expired for versions older than its history.

It does not do admission, defaulting (beyond a Namespace's phase and finalizer), RBAC
rules (users have fixed permissions instead), garbage collection, or subresources other
than ``status``; deleting a namespace deletes its objects at once.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from . import _core
from .sessions import AsyncSession, Session

if TYPE_CHECKING:
    from typing import Unpack

    from ._options import ClusterSessionOptions

__all__ = ["FakeCluster", "Faults"]

Allow = str | Iterable[str] | Mapping[str, Iterable[str]]


class Faults:
    """Faults to inject into a FakeCluster, for testing code that must survive them."""

    def __init__(self, core: _core.FakeCluster) -> None:
        self._core = core

    def drop_watches(self) -> None:
        """Ends every open watch stream now (clients should resume without losing events)."""
        self._core.drop_watches()

    def fail_next(self, n: int = 1, status: int = 503, retry_after: int | None = None) -> None:
        """The next ``n`` requests get ``status`` (a ``Status`` body, and ``Retry-After`` when given)."""
        self._core.fail_next(n, status, retry_after)

    def latency(self, seconds: float) -> None:
        """Every request waits this long before it is handled (0 turns it off)."""
        self._core.latency(seconds)


class FakeCluster:
    """An in-process API server. Several can run at once; each has its own CA, port and
    objects. ``history`` is how many change events watches can resume from;
    ``bookmark_interval`` how often (seconds) watches that allow bookmarks get one."""

    def __init__(self, *, history: int = 10_000, bookmark_interval: float = 60.0) -> None:
        self._core = _core.FakeCluster(history, bookmark_interval)
        #: The server URL (``https://127.0.0.1:<port>``).
        self.server: str = self._core.server
        #: The PEM of the cluster's own CA: the only certificate its sessions trust.
        self.ca_data: str = self._core.ca_pem
        self.faults = Faults(self._core)
        self._tokens: dict[str, str] = {"admin": self._core.admin_token}
        self._folder: str | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<FakeCluster {self.server}{' stopped' if self._stopped else ''}>"

    def session(self, user: str = "admin", **kwargs: Unpack[ClusterSessionOptions]) -> Session:
        """A Session to this cluster as ``user`` (``admin`` may do everything)."""
        return Session(self.server, token=self._token(user), ca_data=self.ca_data, **kwargs)

    def async_session(self, user: str = "admin", **kwargs: Unpack[ClusterSessionOptions]) -> AsyncSession:
        """An AsyncSession to this cluster as ``user``."""
        return AsyncSession(self.server, token=self._token(user), ca_data=self.ca_data, **kwargs)

    def _token(self, user: str) -> str:
        try:
            return self._tokens[user]
        except KeyError:
            raise KeyError(f"no user {user!r} on this FakeCluster; add it with add_user()") from None

    def token(self, user: str = "admin") -> str:
        """The bearer token of ``user``."""
        return self._token(user)

    def add_user(self, name: str, token: str | None = None, allow: Allow = "*") -> str:
        """Adds a token user and returns its token. ``allow`` is ``"*"`` (everything), a list
        of verbs (``["get", "list", "watch"]``, any resource) or of ``"verb:resource"``, or a
        mapping of resource to verbs (``{"configmaps": ["get", "list"]}``). Anything else
        is 403 Forbidden; an unknown token is 401."""
        token = token or secrets.token_hex(16)
        rules: list[str]
        if isinstance(allow, str):
            rules = [allow]
        elif isinstance(allow, Mapping):
            rules = [f"{verb}:{resource}" for resource, verbs in allow.items() for verb in verbs]
        else:
            rules = list(allow)
        self._core.add_user(name, token, rules)
        self._tokens[name] = token
        return token

    def register(self, group: str, version: str, kind: str, plural: str, namespaced: bool = True) -> None:
        """Serves a new kind (a custom resource's), with its discovery entry::

            cluster.register("example.com", "v1", "Widget", "widgets")
        """
        self._core.register(group, version, kind, plural, namespaced)

    def compact(self) -> None:
        """Forgets the change history: watches from any earlier resourceVersion get 410 Expired."""
        self._core.compact()

    @property
    def resource_version(self) -> str:
        """The cluster's latest resourceVersion."""
        return str(self._core.resource_version)

    @property
    def kubeconfig_path(self) -> str:
        """A kubeconfig file (mode 0600) for this cluster as ``admin``, for tools that want
        one (``KUBECONFIG=... kubectl get pods``). Removed by :meth:`stop`."""
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="kubesession-fakecluster-")
        path = os.path.join(self._folder, "kubeconfig")
        if not os.path.exists(path):
            import base64

            doc = {
                "apiVersion": "v1", "kind": "Config", "current-context": "fakecluster",
                "clusters": [{"name": "fakecluster", "cluster": {
                    "server": self.server,
                    "certificate-authority-data": base64.b64encode(self.ca_data.encode()).decode()}}],
                "users": [{"name": "admin", "user": {"token": self._tokens["admin"]}}],
                "contexts": [{"name": "fakecluster", "context": {"cluster": "fakecluster", "user": "admin",
                                                                "namespace": "default"}}],
            }
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent=1)
        return path

    def stop(self) -> None:
        """Stops the server and closes its connections. Idempotent."""
        self._core.stop()
        self._stopped = True
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> FakeCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        try:
            self.stop()
        except Exception:
            pass

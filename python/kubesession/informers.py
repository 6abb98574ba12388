"""The informer: a local cache of a collection kept in step with the cluster by a watch,
with add/update/delete handlers (client-go's SharedInformer, without the sharing)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .exceptions import KubeError

if TYPE_CHECKING:
    from .sessions import Session

log = logging.getLogger("kubesession")

Handler = Callable[..., Any]


def key_of(obj: dict[str, Any]) -> str:
    """The store key: "namespace/name", or "name" for cluster-scoped objects."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class Informer:
    """Keeps ``store`` (a dict keyed by "namespace/name") equal to the collection.

    It lists, then watches from the list's resourceVersion. Handlers run on the informer's
    thread in event order: ``on_add(obj)``, ``on_update(old, new)``, ``on_delete(obj)``.
    After a RESYNC (the watch relisted after a 410) it calls them for exactly the
    differences. A handler that raises is logged to the "kubesession" logger, never fatal.
    """

    def __init__(self, session: "Session", path: str, on_add: Handler | None = None,
                 on_update: Handler | None = None, on_delete: Handler | None = None, **watch_kwargs: Any):
        self.session = session
        self.path = path
        self.on_add, self.on_update, self.on_delete = on_add, on_update, on_delete
        self.watch_kwargs = watch_kwargs
        self.store: dict[str, dict[str, Any]] = {}
        #: The exception that ended the informer, if one did.
        self.error: BaseException | None = None
        self._synced = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: Any = None
        self._lock = threading.Lock()

    def start(self) -> "Informer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"kubesession-informer {self.path}", daemon=True)
            self._thread.start()
        return self

    def wait_synced(self, timeout: float | None = None) -> bool:
        """Waits until the initial list is in ``store``. Raises what ended the informer early."""
        done = self._synced.wait(timeout)
        if self.error is not None:
            raise self.error
        return done

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._watch is not None:
                self._watch.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def __enter__(self) -> "Informer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------
    def _call(self, handler: Handler | None, *args: Any) -> None:
        if handler is None:
            return
        try:
            handler(*args)
        except Exception:
            log.exception("kubesession informer %s: handler %r raised", self.path, handler)

    def _run(self) -> None:
        try:
            # List first, so that "synced" has a precise moment; then watch from the list.
            kw = self.watch_kwargs
            r = self.session.get(self.path, params={"labelSelector": kw.get("label_selector"),
                                                    "fieldSelector": kw.get("field_selector")})
            r.raise_for_status()
            body = r.json()
            for obj in body.get("items") or ():
                self.store[key_of(obj)] = obj
                self._call(self.on_add, obj)
            self._synced.set()
            with self._lock:
                if self._stopped.is_set():
                    return
                self._watch = self.session.watch(
                    self.path, resource_version=(body.get("metadata") or {}).get("resourceVersion"), **kw
                )
            for ev in self._watch:
                self._apply(ev.type, ev.object)
        except KubeError as e:
            self.error = e
            log.error("kubesession informer %s stopped: %s", self.path, e)
        finally:
            self._synced.set()

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "RESYNC":
            fresh = {key_of(o): o for o in obj.get("items") or ()}
            for key, gone in list(self.store.items()):
                if key not in fresh:
                    del self.store[key]
                    self._call(self.on_delete, gone)
            for key, new in fresh.items():
                self._upsert(key, new, only_if_changed=True)
        elif kind in ("ADDED", "MODIFIED"):
            self._upsert(key_of(obj), obj)
        elif kind == "DELETED":
            self._call(self.on_delete, self.store.pop(key_of(obj), obj))

    def _upsert(self, key: str, new: dict[str, Any], only_if_changed: bool = False) -> None:
        previous = self.store.get(key)
        self.store[key] = new
        if previous is None:
            self._call(self.on_add, new)
        elif not only_if_changed or _rv(previous) != _rv(new):
            self._call(self.on_update, previous, new)


def _rv(obj: dict[str, Any]) -> Any:
    return (obj.get("metadata") or {}).get("resourceVersion")

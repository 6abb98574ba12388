"""Informers against the real API server: the store follows the cluster through bursts
of changes and through a forced relist (410), with exactly the handler calls needed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import kubesession as ks
from kubesession.informers import Informer
from local_apiserver import LocalApiServer
from support.tcp_proxy import TcpProxy


def tpl(name: str, image: str = "busybox") -> dict[str, Any]:
    return {"metadata": {"name": name}, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}


def snapshot(session: ks.Session, path: str) -> dict[str, str]:
    """key -> resourceVersion of a fresh LIST."""
    items = session.get(path).json()["items"]
    return {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in items}


def store_view(inf: Informer) -> dict[str, str]:
    return {k: v["metadata"]["resourceVersion"] for k, v in list(inf.store.items())}


def wait_for(predicate: Callable[[], object], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(("add", obj["metadata"]["name"]))

    def update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        assert old["metadata"]["name"] == new["metadata"]["name"]
        with self.lock:
            self.calls.append(("update", new["metadata"]["name"]))

    def delete(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(("delete", obj["metadata"]["name"]))


def test_store_follows_a_burst_of_changes(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json={"metadata": {"name": "pre"}}).raise_for_status()
    rec = Recorder()
    with admin.informer(base, on_add=rec.add, on_update=rec.update, on_delete=rec.delete) as inf:
        assert inf.wait_synced(timeout=10)
        assert f"{namespace}/pre" in inf.store
        for i in range(30):
            admin.post(base, json={"metadata": {"name": f"b{i}"}, "data": {"v": "0"}}).raise_for_status()
        for i in range(10):
            admin.patch(f"{base}/b{i}", json={"data": {"v": "1"}}).raise_for_status()
        for i in range(25, 30):
            admin.delete(f"{base}/b{i}").raise_for_status()
        assert wait_for(lambda: store_view(inf) == snapshot(admin, base))
        assert wait_for(lambda: len(rec.calls) == 1 + 30 + 10 + 5)
    assert rec.calls[0] == ("add", "pre")
    assert sorted(c for c in rec.calls if c[0] == "update") == sorted(("update", f"b{i}") for i in range(10))
    assert sorted(c for c in rec.calls if c[0] == "delete") == sorted(("delete", f"b{i}") for i in range(25, 30))


def test_forced_relist_calls_handlers_for_exactly_the_differences(apiserver: LocalApiServer, admin: ks.Session,
                                                                  namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/podtemplates"  # no watch cache: compaction gives 410
    for name in ("keep", "change", "remove"):
        admin.post(base, json=tpl(name)).raise_for_status()
    with TcpProxy(apiserver.port) as proxy:
        s = ks.Session(f"https://127.0.0.1:{proxy.port}", token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        rec = Recorder()
        with s.informer(base, on_add=rec.add, on_update=rec.update, on_delete=rec.delete) as inf:
            assert inf.wait_synced(timeout=10)
            assert sorted(rec.calls) == [("add", "change"), ("add", "keep"), ("add", "remove")]
            rec.calls.clear()
            # An outage: while the informer is cut off, the cluster changes and etcd compacts.
            proxy.paused.set()
            proxy.cut_all()
            admin.post(base, json=tpl("new")).raise_for_status()
            admin.patch(f"{base}/change", json={"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
                        content_type="strategic").raise_for_status()
            admin.delete(f"{base}/remove").raise_for_status()
            apiserver.compact(admin.get(base).json()["metadata"]["resourceVersion"])
            proxy.paused.clear()
            assert wait_for(lambda: store_view(inf) == snapshot(admin, base), 60)
            assert wait_for(lambda: len(rec.calls) == 3, 10)
            assert sorted(rec.calls) == [("add", "new"), ("delete", "remove"), ("update", "change")]
            image = inf.store[f"{namespace}/change"]["template"]["spec"]["containers"][0]["image"]
            assert image == "nginx"


def test_handler_exceptions_are_logged_not_fatal(admin: ks.Session, namespace: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    seen: list[str] = []

    def bad(obj: dict[str, Any]) -> None:
        seen.append(obj["metadata"]["name"])
        raise RuntimeError("handler bug")

    with caplog.at_level(logging.ERROR, logger="kubesession"):
        with admin.informer(base, on_add=bad) as inf:
            inf.wait_synced(timeout=10)
            admin.post(base, json={"metadata": {"name": "x1"}}).raise_for_status()
            admin.post(base, json={"metadata": {"name": "x2"}}).raise_for_status()
            assert wait_for(lambda: seen == ["x1", "x2"])
            assert inf.error is None
    assert any("handler bug" in r.getMessage() or (r.exc_info and "handler bug" in str(r.exc_info[1]))
               for r in caplog.records)


def test_informer_error_is_reported(apiserver: LocalApiServer, namespace: str) -> None:
    s = ks.Session(apiserver.server, token=apiserver.unbound_token, ca_file=str(apiserver.ca_file))
    inf = s.informer(f"/api/v1/namespaces/{namespace}/configmaps").start()
    try:
        inf.wait_synced(timeout=10)
    except ks.Forbidden:
        pass
    else:
        raise AssertionError("wait_synced must raise what stopped the informer")
    finally:
        inf.stop()

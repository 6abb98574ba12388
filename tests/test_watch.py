"""Watches: events, selectors, reconnects without loss or repeats, 410 relists, dead
connections, stop, timeouts, bad streams. A conformance suite: the tests that take the
``cluster`` fixture run against both the real kube-apiserver and FakeCluster."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.clusters import Cluster
from support.interrupt import interrupted
from support.pki import ServingPki
from support.scripted_server import Recorded, ScriptedServer
from support.tcp_proxy import TcpProxy

CONFORMANCE = True


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data}


def tpl(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}


def names(events: Iterable[ks.WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.object["metadata"]["name"]) for e in events]


def collect(w: ks.Watch, count: int, seconds: float = 60) -> list[ks.WatchEvent]:
    """The first `count` events of w, or fail after `seconds` (a bound, not a timing assertion)."""
    got: list[ks.WatchEvent] = []
    stopper = threading.Timer(seconds, w.stop)
    stopper.start()
    try:
        for ev in w:
            got.append(ev)
            if len(got) == count:
                break
    finally:
        stopper.cancel()
    return got


def test_list_then_watch_added_modified_deleted(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json=cm("before")).raise_for_status()
    w = admin.watch(base, timeout=30)
    first = next(w)
    assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "before")
    assert first.object["kind"] == "ConfigMap" and first.object["apiVersion"] == "v1"
    admin.post(base, json=cm("x", a="1")).raise_for_status()
    admin.patch(f"{base}/x", json={"data": {"a": "2"}}).raise_for_status()
    admin.delete(f"{base}/x").raise_for_status()
    events = collect(w, 3)
    assert names(events) == [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")]
    assert events[1].object["data"] == {"a": "2"}
    assert events[1]["type"] == "MODIFIED" and events[1]["object"] is events[1].object
    assert w.resource_version == events[-1].object["metadata"]["resourceVersion"]
    w.stop()
    assert list(w) == []


def test_label_and_field_selectors(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    by_label = admin.watch(base, label_selector="tier=web", resource_version=rv, timeout=30)
    by_field = admin.watch(base, field_selector="metadata.name=b", resource_version=rv, timeout=30)
    for name, tier in [("a", "web"), ("b", "db"), ("c", "web")]:
        admin.post(base, json=cm(name, labels={"tier": tier})).raise_for_status()
    assert names(collect(by_label, 2)) == [("ADDED", "a"), ("ADDED", "c")]
    assert names(collect(by_field, 1)) == [("ADDED", "b")]


def test_reconnects_lose_and_repeat_nothing(cluster: Cluster, admin: ks.Session, namespace: str) -> None:
    """500 changes while a proxy cuts the watch's connection at random points."""
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    with TcpProxy(cluster.port) as proxy:
        s = ks.Session(f"https://127.0.0.1:{proxy.port}", token=cluster.admin_token, ca_file=str(cluster.ca_file))
        w = s.watch(base, resource_version=rv, timeout=240)
        expected = []
        for i in range(250):
            expected += [("ADDED", f"c{i:03d}"), ("MODIFIED", f"c{i:03d}")]
        seen: list[ks.WatchEvent] = []

        def read() -> None:
            # Besides the timed cuts, cut right after random events: whatever the client had
            # already buffered beyond them is lost with the connection and must be re-sent.
            import random

            rng = random.Random(11)
            next_cut = rng.randint(10, 60)
            for ev in w:
                seen.append(ev)
                if len(seen) == next_cut:
                    proxy.cut_all()
                    next_cut += rng.randint(10, 60)
                if len(seen) == len(expected):
                    break

        reader = threading.Thread(target=read)
        reader.start()
        stop_cuts = proxy.start_random_cuts(0.05, 0.4)
        for i in range(250):
            admin.post(base, json=cm(f"c{i:03d}", v="0")).raise_for_status()
            admin.patch(f"{base}/c{i:03d}", json={"data": {"v": "1"}}).raise_for_status()
            time.sleep(0.01)  # spread the changes over a few seconds of cuts
        reader.join()  # the cuts go on until the watch has caught up
        stop_cuts.set()
        print(f"cuts={proxy.cuts} reconnects={w.reconnects} connections={proxy.accepted}")
        assert proxy.cuts >= 2, "the proxy must actually have cut connections"
        assert w.reconnects >= 2
        assert names(seen) == expected  # each change once, in order
        versions = [int(e.object["metadata"]["resourceVersion"]) for e in seen]
        assert versions == sorted(set(versions))


def test_410_relists_with_one_resync_and_goes_on(cluster: Cluster, admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/podtemplates"  # podtemplates bypass the watch cache
    admin.post(base, json=tpl("old")).raise_for_status()
    rv0 = admin.get(base).json()["metadata"]["resourceVersion"]
    admin.post(base, json=tpl("new1")).raise_for_status()
    admin.post(base, json=tpl("new2")).raise_for_status()
    cluster.compact(admin.get(base).json()["metadata"]["resourceVersion"])
    w = admin.watch(base, resource_version=rv0, timeout=30)
    resync = next(w)
    assert resync.type == "RESYNC"
    assert resync.object["kind"] == "PodTemplateList"
    assert sorted(i["metadata"]["name"] for i in resync.object["items"]) == ["new1", "new2", "old"]
    assert w.resource_version == resync.object["metadata"]["resourceVersion"]
    admin.post(base, json=tpl("after")).raise_for_status()
    assert names(collect(w, 1)) == [("ADDED", "after")]


def test_http_410_on_watch_start_also_relists(test_pki: ServingPki) -> None:
    """A server that answers the watch request itself with HTTP 410 (not an ERROR event)."""
    calls = []

    def route(h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        calls.append(rec.path)
        if "watch=1" in rec.path and len(calls) == 1:
            body = b'{"kind":"Status","status":"Failure","reason":"Gone","code":410}'
            h.send_response(410)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        elif "watch=1" in rec.path:
            h.send_response(200)
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            body = json.dumps({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
                               "items": [{"metadata": {"name": "x", "resourceVersion": "9"}}]}).encode()
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key), routes={"/cms": route}) as srv:
        w = ks.Session(srv.url, ca_file=str(test_pki.ca_file)).watch("/cms", resource_version="1", timeout=5)
        ev = next(w)
        assert ev.type == "RESYNC" and ev.object["items"][0]["kind"] == "ConfigMap"
        assert w.resource_version == "9"
        w.stop()


def test_dead_connection_is_detected_by_idle_timeout(cluster: Cluster, admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    with TcpProxy(cluster.port) as proxy:
        s = ks.Session(f"https://127.0.0.1:{proxy.port}", token=cluster.admin_token, ca_file=str(cluster.ca_file))
        w = s.watch(base, resource_version=rv, timeout=60, idle_timeout=1.0)
        admin.post(base, json=cm("one")).raise_for_status()
        assert names(collect(w, 1)) == [("ADDED", "one")]
        proxy.frozen.set()  # the connection stays open but goes silent, as a dead peer does
        admin.post(base, json=cm("two")).raise_for_status()
        unfreeze = threading.Timer(2.5, proxy.frozen.clear)
        unfreeze.start()
        assert names(collect(w, 1)) == [("ADDED", "two")]
        assert w.reconnects >= 1
        unfreeze.cancel()


def test_server_timeout_ends_stream_and_watch_resumes(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    w = admin.watch(base, resource_version=rv, timeout=60, server_timeout=(1, 1))
    t = threading.Timer(2.5, lambda: admin.post(base, json=cm("late")))
    t.start()
    assert names(collect(w, 1)) == [("ADDED", "late")]
    assert w.reconnects >= 1
    t.join()


def test_bookmarks_advance_resource_version(test_pki: ServingPki) -> None:
    """The v1.20 API server sends bookmarks only to watches with a context deadline, which
    its watch handler does not set; so bookmarks are tested against a scripted stream."""
    lines = [
        b'{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}}\n',
        b'{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"12"}}}\n',
    ]
    with _stream_server(test_pki, lines) as srv:
        s = ks.Session(srv.url, ca_file=str(test_pki.ca_file))
        w = s.watch("/cms", resource_version="1", timeout=10, bookmarks=True)
        assert [e.type for e in collect(w, 2)] == ["ADDED", "BOOKMARK"]
        assert w.resource_version == "12"
        w.stop()
        quiet = s.watch("/cms", resource_version="1", timeout=10)
        assert next(quiet).type == "ADDED"
        srv.requests.clear()
        quiet_events = collect(quiet, 1, seconds=3)  # the bookmark is not handed out...
        assert [e.type for e in quiet_events] in ([], ["ADDED"])
        assert "allowWatchBookmarks=true" in srv.requests[0].path
        assert "resourceVersion=12" in srv.requests[0].path  # ...but the next watch resumes from it
        quiet.stop()


def test_stop_from_another_thread(admin: ks.Session, namespace: str) -> None:
    w = admin.watch(f"/api/v1/namespaces/{namespace}/configmaps", resource_version="0")
    threading.Timer(0.5, w.stop).start()
    assert list(w) == []  # returns (promptly) instead of waiting for events that never come
    assert w.stopped


def test_context_manager_and_break_close_the_watch(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json=cm("a")).raise_for_status()
    with admin.watch(base) as w:
        for ev in w:
            break
    assert w.stopped
    for ev in admin.watch(base):  # breaking out of a for loop drops (and closes) the watch
        break


def test_timeout_bounds_the_whole_watch(admin: ks.Session, namespace: str) -> None:
    w = admin.watch(f"/api/v1/namespaces/{namespace}/configmaps", resource_version="0", timeout=1)
    assert [e for e in w if e.type != "ADDED"] == []


def test_unreachable_server_raises_instead_of_a_silent_watch(cluster: Cluster, namespace: str) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = ks.Session(f"https://127.0.0.1:{port}", token=cluster.admin_token, ca_file=str(cluster.ca_file))
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    # The watch's own first LIST cannot reach the server: raised at once, as kubectl does.
    with pytest.raises(ks.ConnectionError, match="cannot connect"):
        next(dead.watch(base))
    # Given a resourceVersion (it came from the server), a failure is an outage and is
    # retried; when the timeout ends the watch before it recovers, the timeout says why.
    with pytest.raises(ks.ConnectionError, match="cannot connect"):
        list(dead.watch(base, resource_version="1", timeout=2))


def test_outage_until_the_timeout_is_raised_a_recovered_one_is_not(cluster: Cluster, admin: ks.Session,
                                                                   namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    with TcpProxy(cluster.port) as proxy:
        s = ks.Session(f"https://127.0.0.1:{proxy.port}", token=cluster.admin_token, ca_file=str(cluster.ca_file))
        admin.post(base, json=cm("first")).raise_for_status()
        w = s.watch(base, timeout=4)
        assert next(w).object["metadata"]["name"] == "first"
        proxy.paused.set()  # new connections are closed at once
        proxy.cut_all()
        with pytest.raises(ks.ConnectionError):
            list(w)
        proxy.paused.clear()
        w = s.watch(base, timeout=15)  # room for the backoff after the outage below
        assert next(w).object["metadata"]["name"] == "first"
        proxy.paused.set()
        proxy.cut_all()
        time.sleep(1)  # an outage of about a second, then the server is back (not a timing assertion)
        proxy.paused.clear()
        admin.post(base, json=cm("second")).raise_for_status()
        assert [e.object["metadata"]["name"] for e in w] == ["second"]  # then the timeout ends it quietly


def test_forbidden_watch_raises(cluster: Cluster, namespace: str) -> None:
    s = ks.Session(cluster.server, token=cluster.unbound_token, ca_file=str(cluster.ca_file))
    with pytest.raises(ks.Forbidden):
        next(s.watch(f"/api/v1/namespaces/{namespace}/configmaps"))


def _stream_server(test_pki: ServingPki, lines: list[bytes]) -> ScriptedServer:
    def route(h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        if "watch=1" not in rec.path:
            body = b'{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}'
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in lines:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        h.wfile.write(b"0\r\n\r\n")

    return ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key), routes={"/cms": route})


def test_bad_line_raises_naming_the_offset(test_pki: ServingPki) -> None:
    good = b'{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n'
    with _stream_server(test_pki, [good, b'{"type":"MODIFIED","object":{not json}\n']) as srv:
        w = ks.Session(srv.url, ca_file=str(test_pki.ca_file)).watch("/cms", timeout=10)
        assert next(w).object["metadata"]["name"] == "a"
        with pytest.raises(ks.StreamError, match=f"byte offset {len(good)}"):
            next(w)


def test_huge_line_raises_instead_of_exhausting_memory(test_pki: ServingPki) -> None:
    line = b'{"type":"ADDED","object":{"metadata":{"name":"' + b"x" * 300_000 + b'"}}}\n'
    with _stream_server(test_pki, [line[i:i + 65536] for i in range(0, len(line), 65536)]) as srv:
        w = ks.Session(srv.url, ca_file=str(test_pki.ca_file)).watch("/cms", timeout=10, max_line=100_000)
        with pytest.raises(ks.StreamError, match="longer than the limit of 100000 bytes"):
            next(w)


def test_error_event_raises_matching_api_error(test_pki: ServingPki) -> None:
    err = b'{"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Forbidden","code":403,"message":"nope"}}\n'
    with _stream_server(test_pki, [err]) as srv:
        w = ks.Session(srv.url, ca_file=str(test_pki.ca_file)).watch("/cms", timeout=10)
        with pytest.raises(ks.Forbidden, match="nope"):
            next(w)


def test_ctrl_c_interrupts_a_waiting_watch(apiserver: LocalApiServer) -> None:
    assert interrupted(apiserver, """
        for ev in s.watch("/api/v1/namespaces/kube-public/configmaps", resource_version="0"):
            pass
    """, settle=1.0)


def test_list_all_follows_continue(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for i in range(7):
        admin.post(base, json=cm(f"l{i}", labels={"set": "x"})).raise_for_status()
    got = [o["metadata"]["name"] for o in admin.list_all(base, limit=2, label_selector="set=x")]
    assert got == [f"l{i}" for i in range(7)]


@pytest.mark.parametrize("rv_mode", ["list-first", "from-version"])
def test_websocket_transport_gives_the_same_events_as_http(cluster: Cluster, admin: ks.Session, namespace: str,
                                                            rv_mode: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json=cm("pre")).raise_for_status()
    rv = admin.get(base).json()["metadata"]["resourceVersion"] if rv_mode == "from-version" else None
    http = admin.watch(base, resource_version=rv, timeout=30)
    ws = admin.watch(base, resource_version=rv, timeout=30, transport="websocket")
    got_http, got_ws = [], []
    if rv is None:  # both list first: the existing object arrives as ADDED
        got_http.append(next(http))
        got_ws.append(next(ws))
    else:  # both open their streams before the changes are made
        assert list(admin.watch(base, resource_version=rv, timeout=0.5, transport="websocket")) == []
    admin.post(base, json=cm("x", a="1")).raise_for_status()
    admin.patch(f"{base}/x", json={"data": {"a": "2"}}).raise_for_status()
    admin.delete(f"{base}/x").raise_for_status()
    got_http += collect(http, 3)
    got_ws += collect(ws, 3)
    assert len(got_ws) == (3 if rv else 4)
    assert names(got_ws) == names(got_http)
    assert [e.object for e in got_ws] == [e.object for e in got_http]
    assert ws.resource_version == http.resource_version


def test_websocket_watch_relists_on_410_and_resumes_after_cuts(cluster: Cluster, admin: ks.Session,
                                                               namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/podtemplates"
    admin.post(base, json=tpl("a")).raise_for_status()
    rv0 = admin.get(base).json()["metadata"]["resourceVersion"]
    admin.post(base, json=tpl("b")).raise_for_status()
    admin.post(base, json=tpl("c")).raise_for_status()
    cluster.compact(admin.get(base).json()["metadata"]["resourceVersion"])
    with TcpProxy(cluster.port) as proxy:
        s = ks.Session(f"https://127.0.0.1:{proxy.port}", token=cluster.admin_token, ca_file=str(cluster.ca_file))
        w = s.watch(base, resource_version=rv0, timeout=60, transport="websocket")
        first = next(w)
        assert first.type == "RESYNC" and len(first.object["items"]) == 3
        admin.post(base, json=tpl("d")).raise_for_status()
        assert names(collect(w, 1)) == [("ADDED", "d")]  # the WebSocket stream is open now
        proxy.cut_all()
        admin.post(base, json=tpl("e")).raise_for_status()
        assert names(collect(w, 1)) == [("ADDED", "e")]
        assert w.reconnects >= 1


def test_websocket_watch_forbidden_and_async(cluster: Cluster, namespace: str) -> None:
    import asyncio

    s = ks.Session(cluster.server, token=cluster.unbound_token, ca_file=str(cluster.ca_file))
    with pytest.raises(ks.Forbidden):
        next(s.watch(f"/api/v1/namespaces/{namespace}/configmaps", resource_version="0", transport="websocket"))

    async def main() -> tuple[str, str]:
        a = ks.AsyncSession(cluster.server, token=cluster.admin_token, ca_file=str(cluster.ca_file))
        base = f"/api/v1/namespaces/{namespace}/configmaps"
        rv = (await a.get(base)).json()["metadata"]["resourceVersion"]
        w = a.watch(base, resource_version=rv, timeout=30, transport="websocket")
        await a.post(base, json={"metadata": {"name": "ws-async"}})
        ev = await w.__anext__()
        w.stop()
        return ev.type, ev.object["metadata"]["name"]

    assert asyncio.run(main()) == ("ADDED", "ws-async")

"""Transport behaviour: retries, redirects, plain http, proxies, timeouts, threads, streams."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.connect_proxy import ConnectProxy
from support.interrupt import interrupted
from support.pki import ServingPki
from support.scripted_server import Recorded, ScriptedServer, reply


@pytest.fixture
def tls_server(test_pki: ServingPki) -> Iterator[ScriptedServer]:
    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as srv:
        yield srv


def session_for(srv: ScriptedServer, test_pki: ServingPki, **kw: Any) -> ks.Session:
    return ks.Session(srv.url, token=kw.pop("token", "tok"), ca_file=str(test_pki.ca_file), **kw)


# -- retries -------------------------------------------------------------------------

def test_429_and_503_are_retried_with_retry_after(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    answers = iter([(429, {"Retry-After": "0"}), (503, {"Retry-After": "0"}), (200, {})])

    def route(h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        status, headers = next(answers)
        reply(h, status, b'{"ok":true}', headers)

    tls_server.routes["/x"] = route
    r = session_for(tls_server, test_pki).get("/x")
    assert r.status_code == 200 and r.retries == 2
    assert len(tls_server.requests) == 3


def test_retries_are_bounded(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    status = {"kind": "Status", "status": "Failure", "reason": "TooManyRequests", "code": 429,
              "message": "slow down", "details": {"retryAfterSeconds": 7}}
    tls_server.routes["/x"] = lambda h, r: reply(h, 429, json.dumps(status).encode(), {"Retry-After": "0"})
    r = session_for(tls_server, test_pki, retries=2).get("/x")
    assert r.status_code == 429 and len(tls_server.requests) == 3
    with pytest.raises(ks.TooManyRequests) as e:
        r.raise_for_status()
    assert e.value.retry_after == 0 and e.value.message == "slow down"


def test_post_is_not_retried(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    tls_server.routes["/x"] = lambda h, r: reply(h, 503, b"", {"Retry-After": "0"})
    r = session_for(tls_server, test_pki).post("/x", json={"a": 1})
    assert r.status_code == 503 and len(tls_server.requests) == 1
    assert tls_server.requests[0].body == b'{"a":1}'
    assert tls_server.requests[0].headers["content-type"] == "application/json"
    with pytest.raises(ks.ServerError):
        r.raise_for_status()


# -- where credentials go ------------------------------------------------------------

def test_redirect_to_another_host_drops_authorization(test_pki: ServingPki) -> None:
    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key), host="localhost") as other, \
         ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as first:
        other.routes["/landing"] = lambda h, r: reply(h, 200, b"landed")
        first.routes["/start"] = lambda h, r: reply(h, 302, b"", {"Location": f"{other.url}/landing"})
        first.routes["/same"] = lambda h, r: reply(h, 302, b"", {"Location": "/here"})
        first.routes["/here"] = lambda h, r: reply(h, 200, b"here")
        s = session_for(first, test_pki, token="secret-token")
        assert s.get("/start").text == "landed"
        assert first.requests[0].headers["authorization"] == "Bearer secret-token"
        assert "authorization" not in other.requests[0].headers
        assert s.get("/same").text == "here"
        assert first.requests[-1].headers["authorization"] == "Bearer secret-token"  # same host keeps it


def test_absolute_url_to_another_host_gets_no_credentials(test_pki: ServingPki) -> None:
    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key), host="localhost") as other, \
         ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as own:
        other.routes["/x"] = lambda h, r: reply(h, 200)
        session_for(own, test_pki, token="secret-token").get(f"{other.url}/x")
        assert "authorization" not in other.requests[0].headers


def test_no_credentials_over_plain_http() -> None:
    with ScriptedServer() as srv:
        srv.routes["/x"] = lambda h, r: reply(h, 200, b"ok")
        with pytest.raises(ks.InsecureTransportError, match="plain http"):
            ks.Session(srv.url, token="secret-token").get("/x")
        assert srv.requests == []  # nothing was sent at all
        assert ks.Session(srv.url).get("/x").text == "ok"  # anonymous is fine
        assert ks.Session(srv.url, token="secret-token", allow_insecure_http=True).get("/x").ok
        assert srv.requests[-1].headers["authorization"] == "Bearer secret-token"


def test_https_to_http_redirect_is_refused(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    with ScriptedServer() as plain:
        plain.routes["/x"] = lambda h, r: reply(h, 200)
        tls_server.routes["/down"] = lambda h, r: reply(h, 302, b"", {"Location": f"{plain.url}/x"})
        with pytest.raises(ks.ConnectionError, match="https to http"):
            session_for(tls_server, test_pki).get("/down")
        assert plain.requests == []


# -- proxies -------------------------------------------------------------------------

def test_explicit_proxy(apiserver: LocalApiServer) -> None:
    with ConnectProxy() as proxy:
        s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file), proxy=proxy.url)
        assert s.get("/api").ok
        assert proxy.tunnels == [f"127.0.0.1:{apiserver.port}"]


def test_https_proxy_environment(apiserver: LocalApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        assert s.get("/api").ok
        assert len(proxy.tunnels) == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        assert s.get("/api").ok
        assert len(proxy.tunnels) == 1  # NO_PROXY honoured


def test_websocket_watch_refuses_a_proxy_but_honours_no_proxy(apiserver: LocalApiServer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # From resourceVersion "0" the server first sends every namespace as ADDED, without a LIST.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # a WebSocket cannot tunnel through it
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    with pytest.raises(ks.InvalidRequest, match="cannot go through a proxy"):
        next(s.watch("/api/v1/namespaces", resource_version="0", transport="websocket", timeout=10))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")  # not for this server: connect directly
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    with s.watch("/api/v1/namespaces", resource_version="0", transport="websocket", timeout=10) as w:
        assert next(w).type == "ADDED"


def test_kubeconfig_proxy_url(apiserver: LocalApiServer, tmp_path: Path) -> None:
    with ConnectProxy() as proxy:
        cfg = tmp_path / "config"
        cfg.write_text(json.dumps({
            "current-context": "x",
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "clusters": [{"name": "c", "cluster": {"server": apiserver.server, "proxy-url": proxy.url,
                                                    "certificate-authority": str(apiserver.ca_file)}}],
            "users": [{"name": "u", "user": {"token": apiserver.admin_token}}],
        }))
        assert ks.Session.from_kubeconfig(cfg).get("/api").ok
        assert proxy.tunnels == [f"127.0.0.1:{apiserver.port}"]


# -- timeouts and hangs ----------------------------------------------------------------

def test_server_that_hangs_gives_read_timeout(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    release = threading.Event()
    tls_server.routes["/hang"] = lambda h, r: release.wait(10)
    try:
        with pytest.raises(ks.ReadTimeout, match="read timeout"):
            session_for(tls_server, test_pki).get("/hang", timeout=0.5)
        with pytest.raises(ks.Timeout):
            session_for(tls_server, test_pki, timeout=(5, 0.5)).get("/hang")
    finally:
        release.set()


def test_stream_that_stalls_gives_read_timeout(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    release = threading.Event()

    def route(h: BaseHTTPRequestHandler, r: Recorded) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"6\r\nline1\n\r\n")
        h.wfile.flush()
        release.wait(10)

    tls_server.routes["/stall"] = route
    try:
        r = session_for(tls_server, test_pki).get("/stall", stream=True, timeout=(5, 0.5))
        lines = r.iter_lines()
        assert next(lines) == b"line1"
        with pytest.raises(ks.ReadTimeout):
            next(lines)
    finally:
        release.set()


def test_connection_refused_is_connection_error() -> None:
    with pytest.raises(ks.ConnectionError, match="refused"):
        ks.Session("https://127.0.0.1:9", token="t").get("/x")


# -- streams ---------------------------------------------------------------------------

def test_truncated_stream_raises_instead_of_ending_quietly(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    def route(h: BaseHTTPRequestHandler, r: Recorded) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b'{"partial": ')
        h.wfile.flush()
        h.connection.shutdown(2)

    tls_server.routes["/cut"] = route
    with pytest.raises(ks.ConnectionError, match="broke while reading"):
        session_for(tls_server, test_pki).get("/cut")


def test_huge_line_is_bounded(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    def route(h: BaseHTTPRequestHandler, r: Recorded) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(64):
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    tls_server.routes["/big"] = route
    r = session_for(tls_server, test_pki).get("/big", stream=True)
    with pytest.raises(ks.StreamError, match="longer than the limit of 1048576 bytes"):
        for _ in r.iter_lines(max_line=1024 * 1024):
            pass
    r.close()


def test_iter_lines_on_a_real_watch(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    for i in range(3):
        admin.post(base, json={"metadata": {"name": f"w{i}"}}).raise_for_status()
    with admin.get(base, params={"watch": True, "resourceVersion": rv, "timeoutSeconds": 2}, stream=True) as r:
        events = [json.loads(line) for line in r.iter_lines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", f"w{i}") for i in range(3)]


def test_iter_bytes_and_content_of_stream(admin: ks.Session) -> None:
    r = admin.get("/version", stream=True)
    assert b"".join(r.iter_bytes()).startswith(b"{")
    r2 = admin.get("/version", stream=True)
    assert r2.json()["major"] == "1"
    r3 = admin.get("/version")
    assert b"".join(r3.iter_bytes()) == r3.content


def test_bad_json_raises_jsondecodeerror(tls_server: ScriptedServer, test_pki: ServingPki) -> None:
    tls_server.routes["/bad"] = lambda h, r: reply(h, 200, b'{"a": [1, 2,')
    with pytest.raises(ks.JSONDecodeError, match="not valid JSON") as e:
        session_for(tls_server, test_pki).get("/bad").json()
    assert isinstance(e.value, ValueError)


# -- threads and the GIL -------------------------------------------------------------------

def test_many_threads_share_one_session(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                admin.post(base, json={"metadata": {"name": f"t{i}-{j}"}}).raise_for_status()
                assert admin.get(f"{base}/t{i}-{j}").json()["metadata"]["name"] == f"t{i}-{j}"
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(admin.get(base).json()["items"]) == 160


def test_gil_is_released_during_a_slow_request(admin: ks.Session, namespace: str) -> None:
    # A watch with timeoutSeconds=2 blocks for ~2 s; another Python thread must keep running.
    progress = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal progress
        while not done.is_set():
            progress += 1

    t = threading.Thread(target=spin)
    t.start()
    before = progress
    admin.get(f"/api/v1/namespaces/{namespace}/configmaps", params={"watch": 1, "timeoutSeconds": 2})
    during = progress - before
    done.set()
    t.join()
    assert during > 100_000


def test_ctrl_c_interrupts_a_blocking_request(apiserver: LocalApiServer) -> None:
    assert interrupted(apiserver, """
        s.get("/api/v1/namespaces/default/configmaps", params={"watch": 1, "timeoutSeconds": 60}, timeout=None)
    """)


def test_closed_session_raises(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    with s:
        assert s.get("/api").ok
    with pytest.raises(ks.SessionClosed):
        s.get("/api")
    assert "closed" in repr(s)

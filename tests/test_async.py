"""AsyncSession and async watches against the real API server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_async_crud_and_errors(apiserver: LocalApiServer, namespace: str) -> None:
    async def main() -> None:
        async with ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file)) as a:
            base = f"/api/v1/namespaces/{namespace}/configmaps"
            r = await a.post(base, json={"metadata": {"name": "x"}, "data": {"k": "v"}})
            assert r.status_code == 201
            assert (await a.get(f"{base}/x")).json()["data"] == {"k": "v"}
            r = await a.patch(f"{base}/x", json=[{"op": "replace", "path": "/data/k", "value": "w"}], content_type="json")
            assert r.json()["data"] == {"k": "w"}
            with pytest.raises(ks.AlreadyExists):
                (await a.post(base, json={"metadata": {"name": "x"}})).raise_for_status()
            with pytest.raises(ks.SSLError):
                await ks.AsyncSession(apiserver.server, token="t").get("/version")
            names = [i["metadata"]["name"] async for i in a.list_all(base, limit=1)]
            assert "x" in names
            assert repr(a).startswith("<AsyncSession https://127.0.0.1:")
        with pytest.raises(ks.SessionClosed):
            await a.get("/version")

    run(main())


def test_many_concurrent_async_watches_with_other_tasks(apiserver: LocalApiServer, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"

    async def main() -> None:
        a = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        rv = (await a.get(base)).json()["metadata"]["resourceVersion"]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def watcher(i: int) -> list[str]:
            got: list[str] = []
            async with a.watch(base, resource_version=rv, timeout=30) as w:
                async for ev in w:
                    got.append(ev.object["metadata"]["name"])
                    if len(got) == 5:
                        break
            return got

        tick_task = asyncio.create_task(ticker())
        watches = [asyncio.create_task(watcher(i)) for i in range(20)]
        await asyncio.sleep(0.5)
        for i in range(5):
            await a.post(base, json={"metadata": {"name": f"e{i}"}})
        results = await asyncio.wait_for(asyncio.gather(*watches), 60)
        tick_task.cancel()
        assert all(r == [f"e{i}" for i in range(5)] for r in results)
        assert ticks > 20  # the loop kept running other tasks while 20 watches waited

    run(main())


def test_async_watch_relists_on_410(apiserver: LocalApiServer, admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/podtemplates"
    tpl = {"metadata": {"name": "t"}, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}
    admin.post(base, json=tpl).raise_for_status()
    rv0 = admin.get(base).json()["metadata"]["resourceVersion"]
    admin.post(base, json=dict(tpl, metadata={"name": "t2"})).raise_for_status()
    admin.post(base, json=dict(tpl, metadata={"name": "t3"})).raise_for_status()
    apiserver.compact(admin.get(base).json()["metadata"]["resourceVersion"])

    async def main() -> None:
        a = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        w = a.watch(base, resource_version=rv0, timeout=20)
        ev = await w.__anext__()
        assert ev.type == "RESYNC" and len(ev.object["items"]) == 3
        w.stop()
        with pytest.raises(StopAsyncIteration):
            await w.__anext__()

    run(main())


def test_async_stream_lines(apiserver: LocalApiServer, admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    admin.post(base, json={"metadata": {"name": "s1"}}).raise_for_status()

    async def main() -> list[bytes]:
        a = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        r = await a.get(base, params={"watch": 1, "resourceVersion": rv, "timeoutSeconds": 1}, stream=True)
        return [line async for line in r.aiter_lines()]

    lines = run(main())
    assert len(lines) == 1 and b'"name":"s1"' in lines[0]


def test_works_inside_an_already_running_loop(apiserver: LocalApiServer) -> None:
    """As in Jupyter: the loop is running before kubesession is used."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert loop.is_running()
        a = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        results = await asyncio.gather(*(a.get("/version") for _ in range(20)))
        assert {r.status_code for r in results} == {200}

    run(main())


EXIT_SCRIPT = """
import asyncio, sys, threading, uuid, kubesession as ks
server, token, ca, mode = sys.argv[1:5]
ns = "default"

def churn():
    # Keep events coming, so that the watch is busy completing futures at exit.
    s = ks.Session(server, token=token, ca_file=ca)
    name = "exit-" + uuid.uuid4().hex[:8]
    s.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": name}})
    i = 0
    while True:
        i += 1
        try:
            s.patch(f"/api/v1/namespaces/{ns}/configmaps/{name}", json={"data": {"i": str(i)}})
        except ks.KubeError:
            return

async def main():
    a = ks.AsyncSession(server, token=token, ca_file=ca)
    if mode == "busy":
        threading.Thread(target=churn, daemon=True).start()
    w = a.watch(f"/api/v1/namespaces/{ns}/configmaps")
    async def consume():
        async for ev in w:
            pass
    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    if mode == "cancel":
        task.cancel()
    # "leave": return with the watch still pending; asyncio.run cancels it and the
    # interpreter exits while tokio may still be working on it.

asyncio.run(main())
print("ok", flush=True)
"""


@pytest.mark.parametrize("mode", ["leave", "cancel", "busy"])
def test_process_exit_with_a_running_async_watch_never_crashes(apiserver: LocalApiServer, mode: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(EXIT_SCRIPT), apiserver.server, apiserver.admin_token,
                          str(apiserver.ca_file), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(20)
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    failures = [(code, err[-500:]) for code, out, err in results if code != 0 or "ok" not in out]
    assert failures == []


def test_async_session_informer(apiserver: LocalApiServer, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"

    async def main() -> list[str]:
        a = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        await a.post(base, json={"metadata": {"name": "seen"}})
        added: list[str] = []
        with a.informer(base, on_add=lambda o: added.append(o["metadata"]["name"])) as inf:
            assert await asyncio.to_thread(inf.wait_synced, 10)
            assert list(inf.store) == [f"{namespace}/seen"]
        return added

    assert run(main()) == ["seen"]

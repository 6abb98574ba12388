#!/usr/bin/env python3
"""kubesession against requests, httpx and the official kubernetes client, in one run.

    python bench/run.py            # all benchmarks (starts a local kube-apiserver for the small GETs
                                   # and for FakeCluster's comparison with it)
    python bench/run.py --quick    # fewer repetitions

Machines here are shared and noisy: read the ratios, not the absolute times. Every
client fully decodes the body into Python objects.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))

from podlist import pod_list, watch_stream  # noqa: E402
from server import BenchServer  # noqa: E402

LIST_PATH = "/api/v1/namespaces/bench/pods"


def interleaved_ms(fns: dict, reps: int, slow: dict | None = None) -> dict[str, float]:
    """Median ms of each function, running them in turn within each repetition so that
    the machine's drift (it is shared) hits every client alike. `slow` ones run in the
    first reps // 3 repetitions only."""
    slow = slow or {}
    times: dict[str, list[float]] = {name: [] for name in [*fns, *slow]}
    for name, fn in [*fns.items(), *slow.items()]:
        fn()  # warm up
    for rep in range(reps):
        chosen = list(fns.items()) + (list(slow.items()) if rep < max(3, reps // 3) else [])
        for name, fn in chosen:
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(v) for name, v in times.items()}


def requests_session(ca: str, token: str):
    import requests

    rs = requests.Session()
    rs.verify = ca
    rs.trust_env = False  # else REQUESTS_CA_BUNDLE silently overrides verify (requests#3829)
    rs.headers["Authorization"] = f"Bearer {token}"
    return rs


def official_api_client(url: str, ca: str, token: str):
    """The official client's ApiClient, or None when it is not installed."""
    try:
        import kubernetes
    except ImportError:
        print("  (kubernetes client not installed: pip install kubernetes)")
        return None
    cfg = kubernetes.client.Configuration()
    cfg.host = url
    cfg.ssl_ca_cert = ca
    cfg.api_key = {"authorization": f"Bearer {token}"}
    return kubernetes.client.ApiClient(cfg)


def report(title: str, rows: dict[str, float], ours: str, unit: str = "ms") -> None:
    print(f"\n## {title}")
    width = max(len(k) for k in rows)
    base = rows[ours]
    for name, value in rows.items():
        ratio = value / base
        print(f"  {name:<{width}}  {value:10.2f} {unit}   {ratio:6.2f}x of {ours}")


def list_benchmark(url: str, ca: str, reps: int, size_mb: float) -> dict[str, float]:
    import httpx
    import kubesession as ks
    import orjson

    token = "bench-token"
    s = ks.Session(url, token=token, ca_file=ca)
    rs = requests_session(ca, token)
    hx = httpx.Client(verify=ca, headers={"Authorization": f"Bearer {token}"})

    def check(body):
        assert len(body["items"]) == 10_000 and body["items"][-1]["metadata"]["name"].startswith("web-09999")

    raw = rs.get(url + LIST_PATH).content

    def floor():
        was = gc.isenabled()
        gc.disable()
        try:
            check(orjson.loads(raw))
        finally:
            if was:
                gc.enable()

    fns = {
        "kubesession get().json()": lambda: check(s.get(LIST_PATH).json()),
        "requests .json()": lambda: check(rs.get(url + LIST_PATH).json()),
        "httpx .json()": lambda: check(hx.get(url + LIST_PATH).json()),
        "floor: orjson, GC paused, bytes in memory": floor,
    }
    slow = {}
    official_client = official_api_client(url, ca, token)
    if official_client is not None:
        import kubernetes

        api = kubernetes.client.CoreV1Api(official_client)

        def official():
            pods = api.list_namespaced_pod("bench")
            assert len(pods.items) == 10_000

        slow["kubernetes (official, models)"] = official
    rows = interleaved_ms(fns, reps, slow)
    report(f"LIST 10,000 pods ({size_mb:.1f} MB) over loopback TLS, to Python objects", rows, "kubesession get().json()")
    return rows


def watch_benchmark(url: str, ca: str, reps: int, n: int = 10_000) -> dict[str, float]:
    """n MODIFIED pod events streamed by the local TLS server; every client decodes each
    event fully and reads object.metadata.name."""
    import asyncio

    import httpx
    import kubesession as ks
    import orjson

    token = "bench-token"
    watch_url = url + LIST_PATH + "?watch=1"
    s = ks.Session(url, token=token, ca_file=ca)

    def ours():
        count = 0
        for ev in s.watch(LIST_PATH, resource_version="1"):
            assert ev.object["metadata"]["name"]
            count += 1
            if count == n:
                break

    def ours_async():
        async def main():
            a = ks.AsyncSession(url, token=token, ca_file=ca)
            count = 0
            async for ev in a.watch(LIST_PATH, resource_version="1"):
                assert ev.object["metadata"]["name"]
                count += 1
                if count == n:
                    break
        asyncio.run(main())

    rs = requests_session(ca, token)

    def with_requests():
        with rs.get(watch_url, stream=True) as r:
            for line in r.iter_lines(chunk_size=64 * 1024):
                ev = json.loads(line)
                assert ev["object"]["metadata"]["name"]

    hx = httpx.Client(verify=ca, headers={"Authorization": f"Bearer {token}"})

    def with_httpx():
        with hx.stream("GET", watch_url) as r:
            for line in r.iter_lines():
                if line:
                    ev = json.loads(line)
                    assert ev["object"]["metadata"]["name"]

    lines = rs.get(watch_url).content.splitlines()

    def floor():
        was = gc.isenabled()
        gc.disable()
        try:
            for line in lines:
                assert orjson.loads(line)["object"]["metadata"]["name"]
        finally:
            if was:
                gc.enable()

    fns = {
        "kubesession watch (sync)": ours,
        "kubesession watch (async)": ours_async,
        "requests iter_lines + json.loads": with_requests,
        "httpx iter_lines + json.loads": with_httpx,
        "floor: orjson per line, GC paused, in memory": floor,
    }
    slow = {}
    official_client = official_api_client(url, ca, token)
    if official_client is not None:
        import kubernetes

        api = kubernetes.client.CoreV1Api(official_client)

        def official():
            count = 0
            for ev in kubernetes.watch.Watch().stream(api.list_namespaced_pod, "bench", resource_version="1"):
                assert ev["object"].metadata.name
                count += 1
                if count == n:
                    break

        slow["kubernetes.watch.Watch (models)"] = official
    rows = interleaved_ms(fns, reps, slow)
    report(f"WATCH {n:,} MODIFIED pod events over loopback TLS, each fully decoded", rows, "kubesession watch (sync)")
    return rows


def small_gets(n: int) -> dict[str, float]:
    import httpx
    import kubesession as ks
    from local_apiserver import LocalApiServer

    results = {}
    with LocalApiServer(controller_manager=False) as api:
        ca = str(api.ca_file)
        s = ks.Session(api.server, token=api.admin_token, ca_file=ca)
        rs = requests_session(ca, api.admin_token)
        hx = httpx.Client(verify=ca, headers={"Authorization": f"Bearer {api.admin_token}"})
        official_client = official_api_client(api.server, ca, api.admin_token)
        core = version_api = None
        if official_client is not None:
            import kubernetes

            core = kubernetes.client.CoreV1Api(official_client)
            version_api = kubernetes.client.VersionApi(official_client)

        def loop(fn):
            def run():
                for _ in range(n):
                    fn()
            return run

        per = lambda total_ms: total_ms / n * 1000  # noqa: E731  (µs per request)
        # An object read (a quorum read from etcd: most of the time is the server's), and
        # /version (no storage: the client's own cost shows).
        for path, official in [("/api/v1/namespaces/default", lambda: core.read_namespace("default")),
                               ("/version", lambda: version_api.get_code())]:
            url = api.server + path
            fns = {
                "kubesession": loop(lambda: s.get(path).json()),
                "requests.Session": loop(lambda: rs.get(url).json()),
                "httpx.Client": loop(lambda: hx.get(url).json()),
            }
            if core is not None:
                fns["kubernetes (official)"] = loop(official)
            rows = {name: per(ms) for name, ms in interleaved_ms(fns, 3).items()}
            report(f"{n} sequential GET {path} against the real kube-apiserver (per request)", rows, "kubesession", "µs")
            results[path] = rows
    return results


def _load(s, base: str, objects: list[dict]) -> None:
    """Creates the objects with 4 threads (a Session is thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        for r in pool.map(lambda o: s.post(base, json=o), objects):
            r.raise_for_status()


def fakecluster_benchmark(reps: int, n: int = 10_000) -> dict[str, float]:
    """FakeCluster against the real kube-apiserver, through the same kubesession client:
    startup, a LIST of n pods, and n watch events (n creates by 4 writers while a watch
    reads; the time until the watch has seen them all)."""
    import threading

    import kubesession as ks
    from local_apiserver import LocalApiServer
    from podlist import pod

    t, first = [], []
    for _ in range(max(reps, 20)):
        t0 = time.perf_counter()
        ks.testing.FakeCluster().stop()
        t.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        with ks.testing.FakeCluster() as fake, fake.session() as s:
            s.get("/api/v1/namespaces").raise_for_status()
        first.append((time.perf_counter() - t0) * 1000)
    print(f"\n## FakeCluster start + stop\n  median {statistics.median(t):.1f} ms over {len(t)} clusters")
    print(f"## FakeCluster start, a Session, its first request answered (TLS handshake included), stop\n"
          f"  median {statistics.median(first):.1f} ms over {len(first)} clusters")
    pods = []
    for i in range(n):
        p = pod(i, "bench")
        p.pop("status", None)
        for k in ("uid", "resourceVersion", "creationTimestamp", "ownerReferences"):
            p["metadata"].pop(k, None)
        pods.append(p)

    def watch_events(s) -> float:
        base = f"/api/v1/namespaces/bench-{time.monotonic_ns()}/configmaps"
        ns = base.split("/")[4]
        s.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        rv = s.get(base).json()["metadata"]["resourceVersion"]
        w = s.watch(base, resource_version=rv, timeout=600)
        done = threading.Event()

        def read() -> None:
            seen = 0
            for _ in w:
                seen += 1
                if seen == n:
                    break
            done.set()

        reader = threading.Thread(target=read)
        reader.start()
        t0 = time.perf_counter()
        _load(s, base, [{"metadata": {"name": f"cm-{i:05d}"}, "data": {"i": str(i)}} for i in range(n)])
        reader.join()
        elapsed = (time.perf_counter() - t0) * 1000
        w.stop()
        return elapsed

    results: dict[str, float] = {}
    with LocalApiServer(controller_manager=True) as api, ks.testing.FakeCluster() as fake:
        real = ks.Session(api.server, token=api.admin_token, ca_file=str(api.ca_file))
        fk = fake.session()
        for s in (real, fk):
            s.post("/api/v1/namespaces", json={"metadata": {"name": "bench"}}).raise_for_status()
        for _ in range(100):  # the namespace's default ServiceAccount, which pod admission wants
            if real.get("/api/v1/namespaces/bench/serviceaccounts/default").ok:
                break
            time.sleep(0.1)
        print(f"  loading {n} pods into both servers...")
        load = {}
        for name, s in (("kube-apiserver", real), ("FakeCluster", fk)):
            t0 = time.perf_counter()
            _load(s, "/api/v1/namespaces/bench/pods", pods)
            load[name] = (time.perf_counter() - t0) * 1000
        report(f"creating {n} pods (4 writer threads, kubesession client)", load, "FakeCluster")
        fns = {"FakeCluster": lambda: fk.get("/api/v1/namespaces/bench/pods").json(),
               "kube-apiserver": lambda: real.get("/api/v1/namespaces/bench/pods").json()}
        results = interleaved_ms(fns, reps)
        report(f"LIST {n} pods (kubesession client, decoded)", results, "FakeCluster")
        events = {"FakeCluster": statistics.median([watch_events(fk) for _ in range(3)]),
                  "kube-apiserver": statistics.median([watch_events(real) for _ in range(3)])}
        report(f"{n} watch events (created by 4 writers, all received)", events, "FakeCluster")
    return results


def import_time(reps: int = 15) -> dict[str, float]:
    """`import X` in fresh interpreters, the modules interleaved."""
    modules = ["kubesession", "requests", "httpx", "kubernetes"]
    times: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(reps):
        for m in modules:
            code = f"import time; t=time.perf_counter(); import {m}; print((time.perf_counter()-t)*1000)"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if out.returncode == 0:
                times[m].append(float(out.stdout))
    results = {f"import {m}": statistics.median(t) for m, t in times.items() if t}
    report(f"import, fresh interpreters ({reps} each)", results, "import kubesession")
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["list", "watch", "gets", "fake", "import"], default=None)
    args = ap.parse_args()
    reps = 5 if args.quick else 11
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {reps} runs")
    from local_apiserver import Pki

    with tempfile.TemporaryDirectory() as tmp:
        pki = Pki(Path(tmp))
        cert, key = pki.issue("bench", "bench", server=True)
        if args.only in (None, "list", "watch"):
            body = pod_list()
            with BenchServer(str(cert), str(key), body, watch_stream()) as srv:
                if args.only in (None, "list"):
                    list_benchmark(srv.url, str(pki.ca_file), reps, len(body) / 1e6)
                if args.only in (None, "watch"):
                    watch_benchmark(srv.url, str(pki.ca_file), reps)
    if args.only in (None, "gets"):
        small_gets(400 if args.quick else 2000)
    if args.only in (None, "fake"):
        fakecluster_benchmark(reps)
    if args.only in (None, "import"):
        import_time()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""kubesession in one page: the secure replacement for

    requests.get(url, headers={'Authorization': 'Bearer ' + token}, verify=False)

Against your cluster when KUBECONFIG is set (read-only: it lists namespaces and pods);
otherwise against an embedded FakeCluster (an API server in kubesession's Rust core, ready
in milliseconds), or with --real-apiserver against a real kube-apiserver started on
127.0.0.1 for the occasion.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import kubesession as ks

ROOT = Path(__file__).resolve().parent.parent


def step(title: str) -> None:
    print(f"\n== {title}")


def show_cluster(s: ks.Session) -> None:
    print(f"session: {s!r}")
    version = s.get("/version").json()
    print(f"server version: {version['gitVersion']}")
    step("list namespaces (JSON decoded in the Rust core)")
    r = s.get("/api/v1/namespaces", params={"limit": 20})
    r.raise_for_status()
    for ns in r.json()["items"]:
        print(f"  {ns['metadata']['name']:<30} {ns['status'].get('phase', '')}")
    step(f"pods in namespace {s.namespace!r}")
    pods = s.get(f"/api/v1/namespaces/{s.namespace}/pods", params={"limit": 20})
    if pods.ok:
        items = pods.json()["items"]
        print(f"  {len(items)} pod(s)" + "".join(f"\n  {p['metadata']['name']}" for p in items))
    else:
        try:
            pods.raise_for_status()
        except ks.ApiError as e:
            print(f"  {type(e).__name__}: {e}")


class Cluster:
    """What the demo needs of the cluster it starts: FakeCluster or a real kube-apiserver."""

    server: str
    ca_file: str
    admin_token: str
    unbound_token: str
    kubeconfig: str


def fake_cluster(stack: contextlib.ExitStack) -> Cluster:
    step("starting an embedded FakeCluster (kubesession.testing: an API server in the Rust core)")
    t0 = time.perf_counter()
    fake = stack.enter_context(ks.testing.FakeCluster())
    print(f"ready at {fake.server} in {(time.perf_counter() - t0) * 1000:.0f} ms, with its own fresh CA")
    c = Cluster()
    c.server, c.admin_token, c.kubeconfig = fake.server, fake.token("admin"), fake.kubeconfig_path
    c.unbound_token = fake.add_user("alice", allow=["get"])  # may read, may not list
    folder = stack.enter_context(tempfile.TemporaryDirectory())
    c.ca_file = os.path.join(folder, "ca.crt")
    Path(c.ca_file).write_text(fake.ca_data)
    return c


def real_apiserver(stack: contextlib.ExitStack) -> Cluster:
    sys.path.insert(0, str(ROOT / "scripts"))
    from local_apiserver import LocalApiServer

    step("starting a real kube-apiserver on 127.0.0.1 (etcd + kube-apiserver v1.20.2)")
    t0 = time.monotonic()
    api = stack.enter_context(LocalApiServer(controller_manager=False))
    print(f"ready at {api.server} in {time.monotonic() - t0:.1f} s")
    c = Cluster()
    c.server, c.ca_file, c.admin_token = api.server, str(api.ca_file), api.admin_token
    c.unbound_token, c.kubeconfig = api.unbound_token, str(api.kubeconfig)
    return c


def local_demo(real: bool) -> None:
    with contextlib.ExitStack() as stack:
        api = real_apiserver(stack) if real else fake_cluster(stack)

        step("token auth, TLS verified against the cluster's own CA")
        s = ks.Session(api.server, token=api.admin_token, ca_file=api.ca_file)
        show_cluster(s)

        step("create, patch and read a ConfigMap")
        base = "/api/v1/namespaces/default/configmaps"
        s.post(base, json={"metadata": {"name": "demo"}, "data": {"greeting": "hello"}}).raise_for_status()
        s.patch(f"{base}/demo", json={"data": {"greeting": "hello, secure world"}}).raise_for_status()
        print("  data:", s.get(f"{base}/demo").json()["data"])
        try:
            s.post(base, json={"metadata": {"name": "demo"}}).raise_for_status()
        except ks.AlreadyExists as e:
            print(f"  creating it again -> {type(e).__name__}: {e}")

        step("a watch that lists first, then streams changes (and would survive reconnects)")
        import threading

        w = s.watch(base, timeout=10)
        print(f"  {next(w)!r}   <- the existing object, from the initial list")
        threading.Timer(0.2, lambda: (s.patch(f"{base}/demo", json={"data": {"n": "1"}}),
                                      s.delete(f"{base}/demo"))).start()
        for ev in w:
            print(f"  {ev!r}")
            if ev.type == "DELETED":
                break
        print(f"  resourceVersion now {w.resource_version}")

        step("errors name their cause")
        for label, session in [
            ("bad token", ks.Session(api.server, token="wrong", ca_file=api.ca_file)),
            ("user without that permission", ks.Session(api.server, token=api.unbound_token, ca_file=api.ca_file)),
        ]:
            try:
                session.get("/api/v1/namespaces").raise_for_status()
            except ks.ApiError as e:
                print(f"  {label}: {type(e).__name__}: {e}")

        step("a verified TLS failure: the wrong CA")
        with ks.testing.FakeCluster() as other:  # another cluster: another CA
            try:
                ks.Session(api.server, token=api.admin_token, ca_data=other.ca_data).get("/version")
            except ks.SSLError as e:
                print(f"  SSLError: {e}")
        print("  (and the token was never sent: the handshake failed first)")

        step("kubeconfig, like kubectl")
        os.environ["KUBECONFIG"] = api.kubeconfig
        print(f"  KUBECONFIG={api.kubeconfig}")
        print(f"  ks.Session() -> {ks.Session()!r}")
        del os.environ["KUBECONFIG"]


def main() -> None:
    print(f"kubesession {ks.__version__}")
    if "--real-apiserver" in sys.argv:
        local_demo(real=True)
    elif os.environ.get("KUBECONFIG"):
        step("your cluster (from KUBECONFIG)")
        show_cluster(ks.Session())
    else:
        local_demo(real=False)
    print("\ndone.")


if __name__ == "__main__":
    main()

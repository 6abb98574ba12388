"""What FakeCluster offers beyond the conformance suite (which runs test_crud.py and
test_watch.py against it and the real kube-apiserver): several clusters, users, custom
kinds, injected faults, bookmarks, history expiry, and the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

import kubesession as ks

pytest_plugins = ["pytester"]


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": data}


@pytest.fixture
def fake() -> Iterator[ks.testing.FakeCluster]:
    with ks.testing.FakeCluster() as cluster:
        yield cluster


def test_clusters_are_independent_and_stop_closes(fake: ks.testing.FakeCluster, tmp_path: Path) -> None:
    with ks.testing.FakeCluster() as other:
        assert other.server != fake.server and other.ca_data != fake.ca_data
        fake.session().post("/api/v1/namespaces/default/configmaps", json=cm("only-here")).raise_for_status()
        with pytest.raises(ks.NotFound):
            other.session().get("/api/v1/namespaces/default/configmaps/only-here").raise_for_status()
        with pytest.raises(ks.SSLError):  # each cluster trusts only its own CA
            ks.Session(fake.server, token=fake.token(), ca_data=other.ca_data).get("/version")
    s = ks.Session.from_kubeconfig(fake.kubeconfig_path)
    assert s.get("/api/v1/namespaces/default/configmaps/only-here").ok
    path = fake.kubeconfig_path
    fake.stop()
    with pytest.raises(ks.ConnectionError):
        ks.Session(fake.server, token="t", ca_data=fake.ca_data, retries=0).get("/version")
    import os

    assert not os.path.exists(path)


def test_testing_is_not_imported_by_import_kubesession() -> None:
    code = "import sys, kubesession; assert 'kubesession.testing' not in sys.modules; kubesession.testing.FakeCluster"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_users_get_401_and_403_like_the_real_server(fake: ks.testing.FakeCluster) -> None:
    reader = fake.add_user("reader", allow={"configmaps": ["get", "list"]})
    s = ks.Session(fake.server, token=reader, ca_data=fake.ca_data)
    assert s.get("/api/v1/namespaces/default/configmaps").ok
    with pytest.raises(ks.Forbidden, match='User "reader" cannot create resource "configmaps"'):
        s.post("/api/v1/namespaces/default/configmaps", json=cm("x")).raise_for_status()
    with pytest.raises(ks.Forbidden):
        s.get("/api/v1/namespaces/default/secrets").raise_for_status()
    with pytest.raises(ks.Unauthorized):
        ks.Session(fake.server, token="nobody", ca_data=fake.ca_data).get("/api").raise_for_status()
    with pytest.raises(KeyError, match="add_user"):
        fake.session(user="ghost")


def test_registered_kinds_are_served_and_discovered(fake: ks.testing.FakeCluster) -> None:
    fake.register("example.com", "v1", "Widget", "widgets")
    fake.register("example.com", "v1", "Gadget", "gadgets", namespaced=False)
    s = fake.session()
    assert "example.com" in [g["name"] for g in s.get("/apis").json()["groups"]]
    resources = {r["name"]: r for r in s.get("/apis/example.com/v1").json()["resources"]}
    assert resources["widgets"]["namespaced"] and not resources["gadgets"]["namespaced"]
    w = s.post("/apis/example.com/v1/namespaces/default/widgets",
               json={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}})
    assert w.status_code == 201 and w.json()["metadata"]["generation"] == 1
    s.post("/apis/example.com/v1/gadgets", json={"metadata": {"name": "g"}}).raise_for_status()
    assert [i["metadata"]["name"] for i in s.get("/apis/example.com/v1/gadgets").json()["items"]] == ["g"]
    with pytest.raises(ks.BadRequest, match="kind"):
        s.post("/apis/example.com/v1/namespaces/default/widgets",
               json={"kind": "Gadget", "metadata": {"name": "x"}}).raise_for_status()
    with pytest.raises(ks.NotFound):
        s.get("/apis/example.com/v1/namespaces/default/sprockets").raise_for_status()


def test_generation_and_the_status_subresource(fake: ks.testing.FakeCluster) -> None:
    s = fake.session()
    base = "/apis/apps/v1/namespaces/default/deployments"
    d = s.post(base, json={"metadata": {"name": "web"}, "spec": {"replicas": 1}}).json()
    assert d["metadata"]["generation"] == 1 and d["metadata"]["uid"] and d["metadata"]["creationTimestamp"]
    d = s.patch(f"{base}/web", json={"spec": {"replicas": 2}, "status": {"ignored": True}}).json()
    assert d["metadata"]["generation"] == 2 and "status" not in d  # the main resource keeps the status
    d = s.patch(f"{base}/web/status", json={"status": {"readyReplicas": 2}, "spec": {"replicas": 9}}).json()
    assert d["status"] == {"readyReplicas": 2} and d["spec"] == {"replicas": 2} and d["metadata"]["generation"] == 2
    d = s.patch(f"{base}/web", json=[{"op": "replace", "path": "/spec/replicas", "value": 3}], content_type="json").json()
    assert d["spec"]["replicas"] == 3 and d["metadata"]["generation"] == 3


def test_selectors_it_does_not_support_are_bad_requests(fake: ks.testing.FakeCluster) -> None:
    with pytest.raises(ks.BadRequest, match="field label not supported"):
        fake.session().get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=n1"}).raise_for_status()
    with pytest.raises(ks.BadRequest):
        fake.session().get("/api/v1/pods", params={"labelSelector": "a in b"}).raise_for_status()


def test_fail_next_is_retried_by_get_not_by_post(fake: ks.testing.FakeCluster) -> None:
    s = fake.session()
    fake.faults.fail_next(2, status=503, retry_after=0)
    r = s.get("/api/v1/namespaces/default")
    assert r.status_code == 200 and r.retries == 2
    fake.faults.fail_next(1, status=503)
    with pytest.raises(ks.ServerError):
        s.post("/api/v1/namespaces/default/configmaps", json=cm("once")).raise_for_status()
    fake.faults.fail_next(1, status=429, retry_after=0)
    assert s.post("/api/v1/namespaces/default/configmaps", json=cm("once")).status_code == 429


def test_latency_makes_a_short_read_timeout_fire(fake: ks.testing.FakeCluster) -> None:
    fake.faults.latency(2.0)
    with pytest.raises(ks.ReadTimeout):
        fake.session(timeout=(0.5, 0.2)).get("/version")  # the head may take connect + read
    fake.faults.latency(0)
    assert fake.session().get("/version").ok


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_dropped_watches_resume_without_loss_or_repeats(fake: ks.testing.FakeCluster,
                                                        transport: Literal["http", "websocket"]) -> None:
    s = fake.session()
    base = "/api/v1/namespaces/default/configmaps"
    rv = s.get(base).json()["metadata"]["resourceVersion"]
    w = s.watch(base, resource_version=rv, timeout=60, transport=transport)
    seen = []

    def read() -> None:
        for ev in w:
            seen.append((ev.type, ev.object["metadata"]["name"]))
            if len(seen) == 30:
                break

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(30):
        s.post(base, json=cm(f"c{i:02d}")).raise_for_status()
        if i % 7 == 3:
            fake.faults.drop_watches()
    reader.join(60)
    assert seen == [("ADDED", f"c{i:02d}") for i in range(30)]
    assert w.reconnects >= 1
    w.stop()


def test_stop_ends_websocket_watches_too() -> None:
    fake = ks.testing.FakeCluster()
    s = fake.session()
    base = "/api/v1/namespaces/default/configmaps"
    rv = s.get(base).json()["metadata"]["resourceVersion"]
    w = s.watch(base, resource_version=rv, timeout=5, transport="websocket")
    s.post(base, json=cm("before-stop")).raise_for_status()
    assert next(w).object["metadata"]["name"] == "before-stop"
    fake.stop()
    # The stream ends and reconnecting fails: when the timeout ends the watch, it says so
    # (a WebSocket left open by stop() would instead end quietly at the timeout).
    with pytest.raises(ks.ConnectionError):
        list(w)


def test_bookmarks_are_sent_and_advance_the_watch() -> None:
    with ks.testing.FakeCluster(bookmark_interval=0.2) as fake:
        s = fake.session()
        base = "/api/v1/namespaces/default/configmaps"
        rv = s.get(base).json()["metadata"]["resourceVersion"]
        s.post("/api/v1/namespaces/default/secrets", json={"metadata": {"name": "other-kind"}}).raise_for_status()
        w = s.watch(base, resource_version=rv, bookmarks=True, timeout=30)
        ev = next(w)
        assert ev.type == "BOOKMARK"
        # The secret's change is past: the bookmark may say so, and the watch resumes from there.
        assert w.resource_version is not None and int(w.resource_version) >= int(rv)
        w.stop()


def test_versions_older_than_the_history_expire() -> None:
    with ks.testing.FakeCluster(history=5) as fake:
        s = fake.session()
        base = "/api/v1/namespaces/default/configmaps"
        rv0 = s.get(base).json()["metadata"]["resourceVersion"]
        for i in range(8):
            s.post(base, json=cm(f"h{i}")).raise_for_status()
        w = s.watch(base, resource_version=rv0, timeout=30)
        resync = next(w)
        assert resync.type == "RESYNC" and len(resync.object["items"]) == 8
        w.stop()
        page = s.get(base, params={"limit": 2}).json()
        fake.compact()
        with pytest.raises(ks.Gone):
            s.get(base, params={"limit": 2, "continue": page["metadata"]["continue"]}).raise_for_status()


def test_pytest_plugin_fixtures(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBESESSION_TEST_KUBECONFIG", raising=False)
    pytester.makepyfile("""
        def test_fake(kube_fake, kube_fake_cluster):
            kube_fake.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "a"}}).raise_for_status()
            assert kube_fake.server == kube_fake_cluster.server

        def test_fake_is_fresh_per_test(kube_fake):
            assert kube_fake.get("/api/v1/namespaces/default/configmaps").json()["items"] == []

        def test_real(kube_cluster):
            assert kube_cluster.get("/version").ok
    """)
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*KUBESESSION_TEST_KUBECONFIG is not set*"])


def test_pytest_plugin_kube_cluster_uses_the_named_kubeconfig(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              fake: ks.testing.FakeCluster) -> None:
    monkeypatch.setenv("KUBESESSION_TEST_KUBECONFIG", fake.kubeconfig_path)
    pytester.makepyfile("""
        def test_real(kube_cluster):
            assert kube_cluster.get("/version").json()["gitVersion"].endswith("fakecluster")
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)

"""Shared fixtures. The integration tests run against a real kube-apiserver that
scripts/local_apiserver.py builds (once, cached) and starts on 127.0.0.1.

If it cannot start, every test that needs it errors loudly: nothing is skipped.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import kubesession as ks  # noqa: E402
from local_apiserver import LocalApiServer, Pki  # noqa: E402


@pytest.fixture(scope="session")
def apiserver():
    api = LocalApiServer()
    try:
        api.start()
    except BaseException as e:
        api.stop()
        pytest.fail(f"the local kube-apiserver could not start: {e}", pytrace=False)
    yield api
    api.stop()


class FakeBackend:
    """A FakeCluster with the attributes of LocalApiServer that the conformance tests use."""

    def __init__(self, folder: Path):
        self.cluster = ks.testing.FakeCluster()
        self.server = self.cluster.server
        self.port = int(self.server.rsplit(":", 1)[1])
        self.ca_file = folder / "fakecluster-ca.crt"
        self.ca_file.write_text(self.cluster.ca_data)
        self.admin_token = self.cluster.token("admin")
        self.unbound_token = self.cluster.add_user("alice", allow=[])  # authenticated, allowed nothing

    def compact(self, revision: int | str) -> None:
        self.cluster.compact()

    def stop(self) -> None:
        self.cluster.stop()


@pytest.fixture(scope="session")
def fakecluster(tmp_path_factory):
    backend = FakeBackend(tmp_path_factory.mktemp("fakecluster"))
    yield backend
    backend.stop()


CLUSTERS = ["kube-apiserver", "fakecluster"]


def pytest_generate_tests(metafunc):
    """Conformance: in modules with ``CONFORMANCE = True``, every test that talks to a
    cluster through the ``cluster`` fixture (and does not ask for ``apiserver`` itself)
    runs against both the real kube-apiserver and FakeCluster. Where they differ,
    FakeCluster is wrong."""
    if getattr(metafunc.module, "CONFORMANCE", False) and "cluster" in metafunc.fixturenames \
            and "apiserver" not in metafunc.fixturenames:
        metafunc.parametrize("cluster", CLUSTERS, indirect=True)


@pytest.fixture
def cluster(request):
    """The cluster a test talks to: the real kube-apiserver unless parametrized."""
    kind = getattr(request, "param", "kube-apiserver")
    return request.getfixturevalue("apiserver" if kind == "kube-apiserver" else "fakecluster")


@pytest.fixture
def admin(cluster) -> ks.Session:
    with ks.Session(cluster.server, token=cluster.admin_token, ca_file=str(cluster.ca_file)) as s:
        yield s


@pytest.fixture
def namespace(admin) -> str:
    """A fresh namespace, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    admin.post("/api/v1/namespaces", json={"metadata": {"name": name}}).raise_for_status()
    yield name
    admin.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory) -> Pki:
    """A CA of the tests' own (not the API server's) with a serving cert for 127.0.0.1/localhost."""
    pki = Pki(tmp_path_factory.mktemp("pki"), ca_name="kubesession-scripted-ca")
    pki.server_cert, pki.server_key = pki.issue("server", "scripted", server=True)
    return pki


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The machine sets REQUESTS_CA_BUNDLE & co.; proxies would leak into tests."""
    for var in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                "NO_PROXY", "no_proxy", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", os.environ.get("KUBESESSION_TEST_HOME", "/nonexistent-home"))

"""Shared fixtures. The integration tests run against a real kube-apiserver that
scripts/local_apiserver.py builds (once, cached) and starts on 127.0.0.1.

If it cannot start, every test that needs it errors loudly: nothing is skipped.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import kubesession as ks  # noqa: E402
from local_apiserver import LocalApiServer  # noqa: E402
from support.clusters import Cluster, FakeBackend  # noqa: E402
from support.pki import ServingPki  # noqa: E402


@pytest.fixture(scope="session")
def apiserver() -> Iterator[LocalApiServer]:
    api = LocalApiServer()
    try:
        api.start()
    except BaseException as e:
        api.stop()
        pytest.fail(f"the local kube-apiserver could not start: {e}", pytrace=False)
    yield api
    api.stop()


@pytest.fixture(scope="session")
def fakecluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeBackend]:
    backend = FakeBackend(tmp_path_factory.mktemp("fakecluster"))
    yield backend
    backend.stop()


CLUSTERS = ["kube-apiserver", "fakecluster"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Conformance: in modules with ``CONFORMANCE = True``, every test that talks to a
    cluster through the ``cluster`` fixture (and does not ask for ``apiserver`` itself)
    runs against both the real kube-apiserver and FakeCluster. Where they differ,
    FakeCluster is wrong."""
    if getattr(metafunc.module, "CONFORMANCE", False) and "cluster" in metafunc.fixturenames \
            and "apiserver" not in metafunc.fixturenames:
        metafunc.parametrize("cluster", CLUSTERS, indirect=True)


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Cluster:
    """The cluster a test talks to: the real kube-apiserver unless parametrized."""
    kind = getattr(request, "param", "kube-apiserver")
    return cast(Cluster, request.getfixturevalue("apiserver" if kind == "kube-apiserver" else "fakecluster"))


@pytest.fixture
def admin(cluster: Cluster) -> Iterator[ks.Session]:
    with ks.Session(cluster.server, token=cluster.admin_token, ca_file=str(cluster.ca_file)) as s:
        yield s


@pytest.fixture
def namespace(admin: ks.Session) -> Iterator[str]:
    """A fresh namespace, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    admin.post("/api/v1/namespaces", json={"metadata": {"name": name}}).raise_for_status()
    yield name
    admin.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> ServingPki:
    """A CA of the tests' own (not the API server's) with a serving cert for 127.0.0.1/localhost."""
    return ServingPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine sets REQUESTS_CA_BUNDLE & co.; proxies would leak into tests."""
    for var in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                "NO_PROXY", "no_proxy", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", os.environ.get("KUBESESSION_TEST_HOME", "/nonexistent-home"))

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


@pytest.fixture
def admin(apiserver) -> ks.Session:
    with ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file)) as s:
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

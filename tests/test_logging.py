"""`logging.getLogger("kubesession")`: DEBUG records for each request and watch, and no
secret (token, password, client key, Secret data) in any record at any level."""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kubesession as ks
from support.pki import ServingPki

SECRET_VALUE = "hunter2-do-not-log-me"


@pytest.fixture
def fake() -> Iterator[ks.testing.FakeCluster]:
    with ks.testing.FakeCluster() as cluster:
        yield cluster


def all_text(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = []
    for r in caplog.records:
        out.append(r.getMessage())
        out.append(repr(r.args))
        if r.exc_info:
            out.append(logging.Formatter().formatException(r.exc_info))
    return out


def test_requests_are_logged_at_debug_without_any_secret(fake: ks.testing.FakeCluster, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture,
                                                         test_pki: ServingPki) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    admin_token = fake.token("admin")
    s = fake.session()
    base = "/api/v1/namespaces/default/secrets"
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    s.post(base, json={"metadata": {"name": "db"}, "data": {"password": encoded},
                       "stringData": {"other": SECRET_VALUE}}).raise_for_status()
    assert s.get(f"{base}/db").json()["data"]["password"] == encoded
    s.get(base, params={"labelSelector": "app=db", "fieldSelector": f"metadata.name={SECRET_VALUE}"})
    w = s.watch(base, field_selector=f"metadata.name!={SECRET_VALUE}", timeout=5)
    assert next(w).object["metadata"]["name"] == "db"
    w.stop()
    fake.faults.fail_next(1, status=503, retry_after=0)
    s.get(f"{base}/db")
    with pytest.raises(ks.Unauthorized):
        ks.Session(fake.server, token="wrong-token-also-secret", ca_data=fake.ca_data).get(base).raise_for_status()
    with pytest.raises(ks.SSLError):
        ks.Session(fake.server, token=admin_token, ca_file=str(test_pki.ca_file)).get("/version")
    # A client key and an exec plugin's token pass through the configuration too.
    key_pem = test_pki.server_key.read_text()
    ks.Session(fake.server, token=admin_token, ca_data=fake.ca_data, client_cert=str(test_pki.server_cert),
               client_key=str(test_pki.server_key)).get("/version")
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      f"'kind': 'ExecCredential', 'status': {{'token': {admin_token!r}}}}}))\n")
    cfg = tmp_path / "config"
    cfg.write_text(json.dumps({
        "current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": fake.server,
                                               "certificate-authority-data": base64.b64encode(fake.ca_data.encode()).decode()}}],
        "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                  "command": sys.executable, "args": [str(plugin)]}}}],
    }))
    assert ks.Session.from_kubeconfig(cfg).get(base).ok

    text = all_text(caplog)
    for secret in [admin_token, "wrong-token-also-secret", SECRET_VALUE, encoded, *key_pem.strip().splitlines()[1:-1]]:
        leaks = [t for t in text if secret in t]
        assert not leaks, f"a log record carries a secret: {leaks[0][:200]}"
    # ...and the records are there: method, path, status, elapsed, retries.
    messages = [r.getMessage() for r in caplog.records if r.name == "kubesession"]
    assert any(m.startswith("POST https://127.0.0.1") and "/secrets -> 201 Created in" in m for m in messages), messages
    assert any("/secrets/db -> 200 OK" in m and "after 1 retry" in m for m in messages), messages
    assert any(m.startswith("watch /api/v1/namespaces/default/secrets") for m in messages), messages
    assert any("failed after" in m and "SSLError" in m for m in messages), messages


def test_nothing_is_logged_below_the_configured_level(fake: ks.testing.FakeCluster,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kubesession")
    fake.session().get("/version")
    assert [r for r in caplog.records if r.name == "kubesession"] == []

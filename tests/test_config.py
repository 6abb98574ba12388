"""kubeconfig and in-cluster loading, against the real API server."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer


def write_kubeconfig(path: Path, *, server: str, user: dict[str, Any], cluster_extra: dict[str, Any] | None = None,
                     current: str | None = "ctx", context_name: str = "ctx", namespace: str | None = None,
                     cluster_name: str = "c", user_name: str = "u") -> Path:
    ctx = {"cluster": cluster_name, "user": user_name}
    if namespace:
        ctx["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server, **(cluster_extra or {})}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": context_name, "context": ctx}],
    }
    if current:
        doc["current-context"] = current
    path.write_text(json.dumps(doc))
    return path


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_token_with_relative_ca_path(apiserver: LocalApiServer, tmp_path: Path) -> None:
    shutil.copy(apiserver.ca_file, tmp_path / "ca.crt")
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server, namespace="kube-system",
                           user={"token": apiserver.admin_token},
                           cluster_extra={"certificate-authority": "ca.crt"})
    os.chdir("/")  # relative paths resolve against the kubeconfig's folder, not the cwd
    s = ks.Session.from_kubeconfig(cfg)
    assert s.namespace == "kube-system"
    assert s.server == apiserver.server
    assert s.get(f"/api/v1/namespaces/{s.namespace}").json()["metadata"]["name"] == "kube-system"


def test_inline_data_fields_stay_in_memory(apiserver: LocalApiServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server,
                           user={"client-certificate-data": b64(apiserver.admin_cert),
                                 "client-key-data": b64(apiserver.admin_key)},
                           cluster_extra={"certificate-authority-data": b64(apiserver.ca_file)})
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    s = ks.Session.from_kubeconfig(cfg)
    assert s.get("/api/v1/namespaces/default").ok
    assert list(tmpdir.iterdir()) == []  # no key or CA was written anywhere we can see


def test_relative_client_cert_paths(apiserver: LocalApiServer, tmp_path: Path) -> None:
    sub = tmp_path / "creds"
    sub.mkdir()
    for f in (apiserver.admin_cert, apiserver.admin_key, apiserver.ca_file):
        shutil.copy(f, sub / f.name)
    cfg = write_kubeconfig(sub / "config", server=apiserver.server,
                           user={"client-certificate": apiserver.admin_cert.name, "client-key": apiserver.admin_key.name},
                           cluster_extra={"certificate-authority": apiserver.ca_file.name})
    assert ks.Session.from_kubeconfig(cfg).get("/api/v1/namespaces/default").ok


def test_token_file_is_reread_after_401(apiserver: LocalApiServer, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("stale-token\n")
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server, user={"tokenFile": "token"},
                           cluster_extra={"certificate-authority": str(apiserver.ca_file)})
    s = ks.Session.from_kubeconfig(cfg)
    assert s.get("/api").status_code == 401
    token.write_text(apiserver.admin_token)  # rotated: the next 401 re-reads it and retries once
    assert s.get("/api").status_code == 200


def test_kubeconfig_env_merges_first_wins(apiserver: LocalApiServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a = write_kubeconfig(tmp_path / "a", server=apiserver.server, user={"token": apiserver.admin_token},
                         cluster_extra={"certificate-authority": str(apiserver.ca_file)},
                         current="first", context_name="first", namespace="from-a")
    b = write_kubeconfig(tmp_path / "b", server="https://127.0.0.1:1", user={"token": "other"},
                         current="second", context_name="second", namespace="from-b")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
    s = ks.Session()
    assert s.namespace == "from-a"  # kubectl: the first file's current-context wins
    assert s.get("/api").ok
    # The context only b defines still resolves cluster "c" and user "u" from a (first wins).
    s2 = ks.Session(context="second")
    assert s2.namespace == "from-b" and s2.server == apiserver.server
    # from_kubeconfig with a list behaves the same way.
    assert ks.Session.from_kubeconfig([b, a]).namespace == "from-b"


def test_environment_is_read_at_session_creation(apiserver: LocalApiServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server, user={"token": apiserver.admin_token},
                           cluster_extra={"certificate-authority": str(apiserver.ca_file)}, namespace="late")
    with pytest.raises(ks.ConfigError):
        ks.Session()
    monkeypatch.setenv("KUBECONFIG", str(cfg))  # set after import: still honoured
    assert ks.Session().namespace == "late"


def test_home_kube_config_is_the_default(apiserver: LocalApiServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".kube").mkdir()
    write_kubeconfig(tmp_path / ".kube" / "config", server=apiserver.server, user={"token": apiserver.admin_token},
                     cluster_extra={"certificate-authority": str(apiserver.ca_file)})
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ks.Session().get("/api").ok


def test_keywords_override_the_kubeconfig(apiserver: LocalApiServer, tmp_path: Path) -> None:
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server, user={"token": "wrong"},
                           cluster_extra={"certificate-authority": str(apiserver.ca_file)}, namespace="ns1")
    s = ks.Session.from_kubeconfig(cfg, token=apiserver.admin_token, namespace="ns2")
    assert s.namespace == "ns2" and s.get("/api").ok


def test_insecure_skip_tls_verify_in_kubeconfig_warns(apiserver: LocalApiServer, tmp_path: Path) -> None:
    cfg = write_kubeconfig(tmp_path / "config", server=apiserver.server, user={"token": apiserver.admin_token},
                           cluster_extra={"insecure-skip-tls-verify": True})
    with pytest.warns(ks.InsecureRequestWarning):
        s = ks.Session.from_kubeconfig(cfg)
    with pytest.warns(ks.InsecureRequestWarning):
        assert s.get("/api").ok


@pytest.mark.parametrize(
    "text, expected",
    [
        ("clusters: [unclosed", ["not a valid kubeconfig"]),
        ("current-context: nope\ncontexts: []\n", ["context 'nope'", "context not found"]),
        ("contexts:\n- name: x\n  context: {cluster: missing}\ncurrent-context: x\n", ["context 'x'", "key 'cluster'", "'missing' is not defined"]),
        ("clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", ["key 'server'", "has no server"]),
        ("clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority-data: '%%%'}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", ["key 'certificate-authority-data'", "base64"]),
        ("clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority: no-such.crt}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", ["key 'certificate-authority'", "no-such.crt"]),
        ("clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority-data: 'aGVsbG8='}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", ["certificate-authority-data", "no PEM certificate"]),
        ("clusters:\n- name: c\n  cluster: {server: 'ftp://h'}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", ["key 'server'", "scheme 'ftp'"]),
        ("users:\n- name: u\n  user: {client-certificate-data: 'aGVsbG8='}\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n", ["key 'client-key'", "no client key"]),
    ],
)
def test_malformed_kubeconfig_names_file_context_and_key(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(ks.ConfigError) as e:
        ks.Session.from_kubeconfig(path)
    msg = str(e.value)
    assert str(path) in msg or "certificate-authority-data of cluster" in msg, msg
    for part in expected:
        assert part in msg, msg


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    with pytest.raises(ks.ConfigError, match="does not exist"):
        ks.Session.from_kubeconfig(tmp_path / "nope")


def test_exec_plugin_that_is_missing_is_a_clear_error_not_anonymous(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        "current-context: eks\ncontexts:\n- name: eks\n  context: {cluster: c, user: u}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\n"
        "users:\n- name: u\n  user:\n    exec: {command: kubesession-no-such-plugin, args: [eks, get-token], "
        "apiVersion: client.authentication.k8s.io/v1beta1, installHint: 'install the plugin first'}\n"
    )
    s = ks.Session.from_kubeconfig(path)
    with pytest.raises(ks.AuthError) as e:
        s.get("/api")
    msg = str(e.value)
    assert "context 'eks'" in msg and "kubesession-no-such-plugin" in msg and "not found" in msg
    assert "install the plugin first" in msg


def test_in_cluster_from_a_service_account_folder(apiserver: LocalApiServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(apiserver.admin_token)
    shutil.copy(apiserver.ca_file, sa / "ca.crt")
    (sa / "namespace").write_text("kube-public")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(apiserver.port))
    s = ks.Session.in_cluster(service_account_dir=sa)
    assert s.namespace == "kube-public"
    assert s.server == f"https://127.0.0.1:{apiserver.port}"
    assert s.get("/api/v1/namespaces/kube-public").ok
    assert "auth=token-file" in repr(s)


def test_in_cluster_outside_a_pod(tmp_path: Path) -> None:
    with pytest.raises(ks.ConfigError, match="KUBERNETES_SERVICE_HOST"):
        ks.Session.in_cluster(service_account_dir=tmp_path)


def test_no_configuration_at_all() -> None:
    with pytest.raises(ks.ConfigError, match="no cluster configured"):
        ks.Session()

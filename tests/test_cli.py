"""The `kubesession` CLI (console script and `python -m kubesession`) against FakeCluster,
the real kube-apiserver (create-token) and the OpenShift emulation (login)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.openshift_emulation import OpenShiftEmulation
from support.pki import ServingPki

BIN = Path(sys.executable).parent / "kubesession"


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, input=stdin, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def fake() -> Iterator[ks.testing.FakeCluster]:
    with ks.testing.FakeCluster() as cluster:
        yield cluster


@pytest.fixture
def kc(fake: ks.testing.FakeCluster) -> str:
    return fake.kubeconfig_path


def test_module_and_console_script_are_the_same_cli() -> None:
    as_module = subprocess.run([sys.executable, "-m", "kubesession", "--help"], capture_output=True, text=True)
    assert as_module.returncode == 0 and "apply" in as_module.stdout
    assert cli("--help").stdout == as_module.stdout.replace("__main__.py", "kubesession")


def test_global_options_before_or_after_the_subcommand(fake: ks.testing.FakeCluster, kc: str) -> None:
    fake.session().post("/api/v1/namespaces/kube-system/configmaps", json={"metadata": {"name": "in-system"}})
    before = cli("--kubeconfig", kc, "-n", "kube-system", "get", "configmaps", "-o", "name")
    after = cli("get", "configmaps", "-o", "name", "-n", "kube-system", "--kubeconfig", kc)
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout == "configmap/in-system\n"


def test_get_outputs(fake: ks.testing.FakeCluster, kc: str) -> None:
    s = fake.session()
    s.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "shown"}, "data": {"k": "v"}})
    table = cli("--kubeconfig", kc, "get", "/api/v1/namespaces/default/configmaps")
    assert table.stdout.splitlines()[0].split() == ["NAME", "NAMESPACE", "AGE", "STATUS"]
    assert "shown" in table.stdout
    as_json = json.loads(cli("--kubeconfig", kc, "get", "configmaps", "shown", "-o", "json").stdout)
    assert as_json["data"] == {"k": "v"} and as_json["kind"] == "ConfigMap"
    as_yaml = cli("--kubeconfig", kc, "get", "configmaps", "shown", "-o", "yaml").stdout
    assert "kind: ConfigMap" in as_yaml and "k: v" in as_yaml


def test_errors_are_one_line_and_exit_non_zero(kc: str) -> None:
    r = cli("--kubeconfig", kc, "get", "/api/v1/namespaces/default/configmaps/missing")
    assert r.returncode == 1 and r.stderr == 'error: configmaps "missing" not found\n' and r.stdout == ""
    r = cli("--kubeconfig", "/nonexistent/config", "get", "/version")
    assert r.returncode == 1 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    r = cli("--kubeconfig", kc, "get", "widgets")
    assert r.returncode == 1 and "no resource type 'widgets'" in r.stderr


def test_apply_creates_then_applies_and_delete(fake: ks.testing.FakeCluster, kc: str, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  mode: fast\n"
                        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n")
    first = cli("--kubeconfig", kc, "apply", "-f", str(manifest))
    assert first.returncode == 0, first.stderr
    assert first.stdout == "configmap/app-config created\ndeployment/app created\n"
    manifest.write_text(manifest.read_text().replace("fast", "safe"))
    again = cli("apply", "-f", "-", "--kubeconfig", kc, stdin=manifest.read_text())
    assert again.stdout == "configmap/app-config applied\ndeployment/app applied\n"
    assert fake.session().get("/api/v1/namespaces/default/configmaps/app-config").json()["data"] == {"mode": "safe"}
    assert cli("--kubeconfig", kc, "delete", "deployments.apps", "app").returncode == 0
    assert fake.session().get("/apis/apps/v1/namespaces/default/deployments/app").status_code == 404
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n  secret: hunter2")
    r = cli("--kubeconfig", kc, "apply", "-f", str(bad))
    assert r.returncode == 1 and "not valid YAML" in r.stderr and "hunter2" not in r.stderr


def test_watch_prints_events(fake: ks.testing.FakeCluster, kc: str) -> None:
    fake.session().post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "watched"}})
    r = cli("--kubeconfig", kc, "watch", "/api/v1/namespaces/default/configmaps", "--timeout", "1")
    assert r.returncode == 0 and "ADDED    ConfigMap default/watched" in r.stdout


def test_all_pages(fake: ks.testing.FakeCluster, kc: str) -> None:
    s = fake.session()
    s.post("/api/v1/namespaces", json={"metadata": {"name": "many"}}).raise_for_status()
    for i in range(1100):
        s.post("/api/v1/namespaces/many/configmaps", json={"metadata": {"name": f"cm-{i:04d}"}}).raise_for_status()
    r = cli("--kubeconfig", kc, "-n", "many", "get", "configmaps", "--all-pages", "-o", "name")
    assert r.stdout.splitlines() == [f"configmap/cm-{i:04d}" for i in range(1100)]
    assert r.stderr == ""  # progress only on a terminal


def test_whoami_token_and_insecure_warning(fake: ks.testing.FakeCluster, kc: str) -> None:
    assert cli("--kubeconfig", kc, "whoami").stdout == "admin\n"
    assert cli("--kubeconfig", kc, "token").stdout == fake.token("admin") + "\n"
    for _ in range(2):  # every time, not once per process or session
        r = cli("--kubeconfig", kc, "--insecure-skip-tls-verify", "get", "/version")
        assert r.returncode == 0 and r.stderr.count("warning: TLS verification is disabled") == 1


def test_create_token_on_the_real_server(apiserver: LocalApiServer, admin: ks.Session, namespace: str,
                                         tmp_path: Path) -> None:
    admin.create_service_account("robot", namespace)
    kc = apiserver.write_kubeconfig(tmp_path / "config", token=apiserver.admin_token)
    r = cli("--kubeconfig", str(kc), "create-token", "robot", "-n", namespace, "--duration", "600")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    review = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json={"spec": {"token": token}}).json()
    assert review["status"]["user"]["username"] == f"system:serviceaccount:{namespace}:robot"


def test_login_reads_the_password_from_stdin_and_saves_the_context(test_pki: ServingPki, tmp_path: Path) -> None:
    with OpenShiftEmulation(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as emu:
        kc = tmp_path / "config"
        r = cli("login", emu.url, "-u", "developer", "--certificate-authority", str(test_pki.ca_file),
                "--kubeconfig", str(kc), stdin="developer-password\n")
        assert r.returncode == 0, r.stderr
        assert "Logged into" in r.stdout and "developer-password" not in r.stdout + r.stderr
        token = next(iter(emu.tokens))
        assert cli("--kubeconfig", str(kc), "token").stdout.strip() == token
        wrong = cli("login", emu.url, "-u", "developer", "--certificate-authority", str(test_pki.ca_file),
                    "--kubeconfig", str(kc), stdin="nope\n")
        assert wrong.returncode == 1 and wrong.stderr.startswith("error: ")

"""kubeconfig exec credential plugins against the real API server: tokens and client
certificates, caching until expiry, a rerun after a 401, and every failure mode as one
clear AuthError."""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.pki import ServingPki

PLUGIN = textwrap.dedent("""
    import json, os, sys, pathlib
    runs = pathlib.Path(os.environ["RUNS_FILE"])
    n = int(runs.read_text() or 0) + 1 if runs.exists() else 1
    runs.write_text(str(n))
    info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
    assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False
    mode = os.environ.get("MODE", "ok")
    if mode == "gate":  # hold until the test opens the gate (or give up after a minute)
        gate = pathlib.Path(os.environ["GATE"])
        for _ in range(600):
            if gate.exists():
                break
            __import__("time").sleep(0.1)
    if mode == "fail":
        print("token-that-must-not-leak")
        print("error: your SSO session has expired, run: login", file=sys.stderr)
        sys.exit(2)
    if mode == "garbage":
        print("token-that-must-not-leak, not JSON")
        sys.exit(0)
    status = {}
    if os.environ.get("TOKENS"):
        tokens = os.environ["TOKENS"].split(",")
        status["token"] = tokens[min(n, len(tokens)) - 1]
    if os.environ.get("CERTS"):  # "cert|key,cert|key": one pair per run, the last repeated
        pairs = os.environ["CERTS"].split(",")
        cert, key = pairs[min(n, len(pairs)) - 1].split("|")
        status["clientCertificateData"] = pathlib.Path(cert).read_text()
        if mode != "cert-without-key":
            status["clientKeyData"] = pathlib.Path(key).read_text()
    if os.environ.get("EXPIRES"):
        status["expirationTimestamp"] = os.environ["EXPIRES"]
    print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
""")


def kubeconfig(tmp_path: Path, apiserver: LocalApiServer, env: dict[str, str],
               api_version: str = "client.authentication.k8s.io/v1", extra: dict[str, Any] | None = None) -> Path:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    runs = tmp_path / "runs"
    exec_cfg = {
        "apiVersion": api_version,
        "command": sys.executable,
        "args": [str(plugin)],
        "env": [{"name": k, "value": v} for k, v in {"RUNS_FILE": str(runs), **env}.items()],
        "installHint": "install the company login tool",
        **(extra or {}),
    }
    cfg = tmp_path / "config"
    cfg.write_text(json.dumps({
        "current-context": "exec",
        "contexts": [{"name": "exec", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": apiserver.server, "certificate-authority": str(apiserver.ca_file)}}],
        "users": [{"name": "u", "user": {"exec": exec_cfg}}],
    }))
    return cfg


def runs(tmp_path: Path) -> int:
    return int((tmp_path / "runs").read_text())


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_token_is_used_and_cached(apiserver: LocalApiServer, tmp_path: Path, api_version: str) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"TOKENS": apiserver.admin_token}, api_version))
    assert "auth=exec" in repr(s)
    assert s.get("/api/v1/namespaces/default").ok
    assert s.get("/api/v1/namespaces/default").ok
    assert runs(tmp_path) == 1  # no expiry: cached for the Session's life


def test_exec_token_is_renewed_at_expiry(apiserver: LocalApiServer, tmp_path: Path) -> None:
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"TOKENS": apiserver.admin_token, "EXPIRES": past}))
    for _ in range(3):
        assert s.get("/api").ok
    assert runs(tmp_path) == 3  # an expired token is never reused


def test_exec_plugin_reruns_once_after_401(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"TOKENS": f"stale-token,{apiserver.admin_token}"}))
    r = s.get("/api/v1/namespaces/default")
    assert r.status_code == 200 and runs(tmp_path) == 2


def test_exec_plugin_401_retry_is_not_a_loop(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"TOKENS": "bad-1,bad-2,bad-3"}))
    assert s.get("/api").status_code == 401
    assert runs(tmp_path) == 2  # one refresh-and-retry per request, never more


def test_exec_plugin_failure_shows_stderr_and_hint_not_stdout(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"MODE": "fail", "TOKENS": "x"}))
    with pytest.raises(ks.AuthError) as e:
        s.get("/api")
    msg = str(e.value)
    assert "SSO session has expired" in msg and "install the company login tool" in msg
    assert "context 'exec'" in msg and "token-that-must-not-leak" not in msg


def test_exec_plugin_malformed_output(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"MODE": "garbage", "TOKENS": "x"}))
    with pytest.raises(ks.AuthError, match="not an ExecCredential") as e:
        s.get("/api")
    assert "token-that-must-not-leak" not in str(e.value)


def test_exec_interactive_always_without_terminal(apiserver: LocalApiServer, tmp_path: Path) -> None:
    cfg = kubeconfig(tmp_path, apiserver, {"TOKENS": "x"}, extra={"interactiveMode": "Always"})
    with pytest.raises(ks.AuthError, match="interactiveMode: Always"):
        ks.Session.from_kubeconfig(cfg)


def test_exec_bad_api_version_is_a_config_error(apiserver: LocalApiServer, tmp_path: Path) -> None:
    cfg = kubeconfig(tmp_path, apiserver, {"TOKENS": "x"}, api_version="client.authentication.k8s.io/v1alpha1")
    with pytest.raises(ks.ConfigError, match="exec.apiVersion"):
        ks.Session.from_kubeconfig(cfg)


def certs(*pairs: tuple[Path, Path]) -> str:
    return ",".join(f"{c}|{k}" for c, k in pairs)


def test_exec_client_certificate_is_used_and_cached(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"CERTS": certs((apiserver.admin_cert, apiserver.admin_key))}))
    assert s.get("/api/v1/namespaces/default").ok
    assert s.get("/api/v1/namespaces/default").ok
    assert runs(tmp_path) == 1
    assert s.token is None  # a certificate, not a bearer token


def test_exec_client_certificate_on_a_websocket_watch_first(apiserver: LocalApiServer, admin: ks.Session,
                                                            namespace: str, tmp_path: Path) -> None:
    # The plugin's first run happens for the WebSocket handshake itself (no request before it).
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = admin.get(base).json()["metadata"]["resourceVersion"]
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, {"CERTS": certs((apiserver.admin_cert, apiserver.admin_key))}))
    with s.watch(base, resource_version=rv, transport="websocket", timeout=30) as w:
        admin.post(base, json={"metadata": {"name": "via-cert"}}).raise_for_status()
        event = next(w)
    assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "via-cert")
    assert runs(tmp_path) == 1


def test_exec_client_certificate_rotates_after_401_on_a_new_connection(apiserver: LocalApiServer, tmp_path: Path,
                                                                       test_pki: ServingPki) -> None:
    # The first run hands out a certificate of a CA the server does not trust: 401. The rerun
    # hands out the admin's; the retried request must not reuse the connection that carried the
    # first certificate (the server authenticates a connection's certificate, not a header).
    stranger = test_pki.issue("stranger", "stranger", org="system:masters")
    env = {"CERTS": certs(stranger, (apiserver.admin_cert, apiserver.admin_key))}
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, env))
    assert s.get("/api/v1/namespaces/default").status_code == 200
    assert runs(tmp_path) == 2
    assert s.get("/api/v1/namespaces/default").status_code == 200
    assert runs(tmp_path) == 2


def test_exec_client_certificate_renewed_at_expiry(apiserver: LocalApiServer, tmp_path: Path) -> None:
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {"CERTS": certs((apiserver.admin_cert, apiserver.admin_key)), "EXPIRES": past}
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, env))
    for _ in range(3):
        assert s.get("/api").ok
    assert runs(tmp_path) == 3


def test_exec_client_certificate_without_key(apiserver: LocalApiServer, tmp_path: Path) -> None:
    env = {"CERTS": certs((apiserver.admin_cert, apiserver.admin_key)), "MODE": "cert-without-key"}
    s = ks.Session.from_kubeconfig(kubeconfig(tmp_path, apiserver, env))
    with pytest.raises(ks.AuthError, match="clientCertificateData without clientKeyData"):
        s.get("/api")


def test_slow_exec_plugins_do_not_stall_other_async_requests(apiserver: LocalApiServer, tmp_path: Path) -> None:
    # Two AsyncSessions whose plugins hold until the gate opens: as many as the I/O runtime
    # has workers. A third session's request must still be answered while they wait.
    gate = tmp_path / "gate"
    configs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        configs.append(kubeconfig(folder, apiserver, {"TOKENS": apiserver.admin_token, "MODE": "gate",
                                                      "GATE": str(gate)}))

    async def main() -> list[int]:
        slow = [ks.AsyncSession.from_kubeconfig(c) for c in configs]
        pending = [asyncio.ensure_future(s.get("/version")) for s in slow]
        for _ in range(600):  # until both plugins run (a bound, not a timing assertion)
            if all((c.parent / "runs").exists() for c in configs):
                break
            await asyncio.sleep(0.1)
        other = ks.AsyncSession(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
        try:
            answered = await asyncio.wait_for(other.get("/version"), 30)
            assert answered.ok and not any(p.done() for p in pending)  # the plugins are still waiting
        finally:
            gate.touch()
        return [(await p).status_code for p in pending]

    assert asyncio.run(main()) == [200, 200]

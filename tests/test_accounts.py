"""whoami, service accounts, roles and tokens against the real API server (the steps of
the OpenShift docs, on plain Kubernetes)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer


def test_token_property_shows_the_token_in_use(apiserver: LocalApiServer, tmp_path: Path) -> None:
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    assert s.token == apiserver.admin_token
    f = tmp_path / "token"
    f.write_text(apiserver.unbound_token + "\n")
    assert ks.Session(apiserver.server, token_file=str(f), ca_file=str(apiserver.ca_file)).token == apiserver.unbound_token
    cert = ks.Session(apiserver.server, ca_file=str(apiserver.ca_file), client_cert=str(apiserver.admin_cert),
                      client_key=str(apiserver.admin_key))
    assert cert.token is None


def test_whoami_through_token_review(admin: ks.Session) -> None:
    me = admin.whoami()
    assert me["username"] == "admin" and "system:masters" in me["groups"]
    assert me["source"] == "TokenReview"  # v1.20 has neither users/~ nor SelfSubjectReview


def test_service_account_token_is_forbidden_until_bound(apiserver: LocalApiServer, admin: ks.Session,
                                                        namespace: str) -> None:
    admin.create_service_account("robot", namespace=namespace)
    token = admin.create_token("robot", namespace=namespace, expiration_seconds=600)
    assert token.count(".") == 2  # a JWT
    robot = ks.Session(apiserver.server, token=token, ca_file=str(apiserver.ca_file), namespace=namespace)
    pods = f"/api/v1/namespaces/{namespace}/pods"
    with pytest.raises(ks.Forbidden):
        robot.get(pods).raise_for_status()
    binding = admin.grant_role("view", "robot", namespace=namespace)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    # The aggregated "view" role and the RBAC cache settle within moments.
    deadline = time.monotonic() + 30
    while robot.get(pods).status_code == 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert robot.get(pods).status_code == 200
    with pytest.raises(ks.Forbidden, match="tokenreviews"):
        robot.whoami()  # on v1.20 whoami needs a TokenReview, which the robot may not create
    assert admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token},
    }).json()["status"]["user"]["username"] == f"system:serviceaccount:{namespace}:robot"


def test_create_token_for_a_missing_service_account(admin: ks.Session, namespace: str) -> None:
    with pytest.raises(ks.NotFound, match=f"{namespace}/nobody"):
        admin.create_token("nobody", namespace=namespace)


def test_service_account_token_source_renews_before_80_percent(apiserver: LocalApiServer, admin: ks.Session,
                                                               namespace: str) -> None:
    admin.create_service_account("renewer", namespace=namespace)
    admin.grant_role("view", "renewer", namespace=namespace)
    now = [1000.0]
    source = ks.ServiceAccountTokenSource(admin, "renewer", namespace, expiration_seconds=3600, clock=lambda: now[0])
    robot = ks.Session(apiserver.server, token=source, ca_file=str(apiserver.ca_file))
    assert "auth=token-source" in repr(robot) and "eyJ" not in repr(source)
    pods = f"/api/v1/namespaces/{namespace}/pods"
    deadline = time.monotonic() + 30
    while robot.get(pods).status_code == 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert robot.get(pods).ok and source.renewals == 1
    now[0] += 0.79 * 3600
    assert robot.get(pods).ok and source.renewals == 1  # still fresh
    now[0] += 0.02 * 3600
    assert robot.get(pods).ok and source.renewals == 2  # past 80 %: renewed
    assert robot.token == source()


def test_token_source_is_refreshed_after_401(apiserver: LocalApiServer) -> None:
    tokens = iter(["stale", apiserver.admin_token])
    calls = []

    class Source:
        current = "stale"

        def __call__(self) -> str:
            calls.append(self.current)
            return self.current

        def invalidate(self) -> None:
            self.current = next(tokens) if self.current != "stale" else apiserver.admin_token

    s = ks.Session(apiserver.server, token=Source(), ca_file=str(apiserver.ca_file))
    assert s.get("/api").ok
    assert calls == ["stale", apiserver.admin_token]


DEADLOCK_SCRIPT = """
import asyncio, sys
import kubesession as ks

server, token, ca, namespace = sys.argv[1:5]
admin = ks.Session(server, token=token, ca_file=ca)

async def main():
    sessions = [ks.AsyncSession(server, ca_file=ca, token=ks.ServiceAccountTokenSource(admin, "robot", namespace))
                for _ in range(4)]
    # Discovery: any authenticated user may read it (no RoleBinding to wait for).
    answers = await asyncio.gather(*(s.get("/api") for s in sessions))
    print([r.status_code for r in answers])

asyncio.run(main())
"""


def test_token_sources_that_make_requests_from_async_sessions_never_deadlock(apiserver: LocalApiServer,
                                                                             admin: ks.Session,
                                                                             namespace: str) -> None:
    # Each AsyncSession's token source makes a blocking request of its own when first asked.
    # Four at once are more than the I/O runtime's workers: none may wait on another forever.
    # In a child process, so that a deadlock fails this test instead of hanging the suite.
    admin.create_service_account("robot", namespace=namespace)
    child = subprocess.run([sys.executable, "-c", DEADLOCK_SCRIPT, apiserver.server, apiserver.admin_token,
                            str(apiserver.ca_file), namespace], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "[200, 200, 200, 200]"

"""OpenShift login, whoami and logout against the local emulation of OpenShift's OAuth
server and user API (tests/support/openshift_emulation.py documents the protocol)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.openshift_emulation import OpenShiftEmulation, token_object_name
from support.pki import ServingPki


@pytest.fixture
def openshift(test_pki: ServingPki) -> Iterator[OpenShiftEmulation]:
    with OpenShiftEmulation(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as emu:
        yield emu


def test_login_whoami_token_logout(openshift: OpenShiftEmulation, test_pki: ServingPki) -> None:
    s = ks.login(openshift.url, "developer", "developer-password", ca_file=str(test_pki.ca_file))
    token = s.token
    assert token is not None and token.startswith("sha256~") and s.token_expires_in == 86400
    assert token not in repr(s)
    authorize = [r for r in openshift.requests if r.path.startswith("/oauth/authorize")][0]
    assert authorize.headers["x-csrf-token"] and authorize.headers["authorization"].startswith("Basic ")
    assert "client_id=openshift-challenging-client" in authorize.path
    me = s.whoami()
    assert me["username"] == "developer" and me["source"] == "user.openshift.io/v1/users/~"
    s.logout()
    assert token not in openshift.tokens
    deletes = [r for r in openshift.requests if r.method == "DELETE"]
    assert deletes[0].path.endswith(token_object_name(token))
    with pytest.raises(ks.SessionClosed):
        s.get("/apis/user.openshift.io/v1/users/~")
    again = ks.Session(openshift.url, token=token, ca_file=str(test_pki.ca_file))
    assert again.get("/apis/user.openshift.io/v1/users/~").status_code == 401


def test_session_login_reuses_server_and_tls(openshift: OpenShiftEmulation, test_pki: ServingPki,
                                             tmp_path: Path) -> None:
    base = ks.Session(openshift.url, verify=str(test_pki.ca_file))  # requests' spelling of the CA
    s = base.login("developer", "developer-password")
    assert s.server == openshift.url and s.whoami()["username"] == "developer"
    # A session whose CA came from a kubeconfig logs in with that CA too.
    cfg = tmp_path / "config"
    cfg.write_text(
        f"current-context: x\ncontexts:\n- name: x\n  context: {{cluster: c}}\nclusters:\n- name: c\n"
        f"  cluster: {{server: '{openshift.url}', certificate-authority: '{test_pki.ca_file}'}}\n"
    )
    assert ks.Session.from_kubeconfig(cfg).login("developer", "developer-password").whoami()["username"] == "developer"


def test_bad_password_is_unauthorized(openshift: OpenShiftEmulation, test_pki: ServingPki) -> None:
    with pytest.raises(ks.Unauthorized) as e:
        ks.login(openshift.url, "developer", "wrong", ca_file=str(test_pki.ca_file))
    assert "wrong" not in str(e.value)


def test_sso_only_identity_provider_is_explained(openshift: OpenShiftEmulation, test_pki: ServingPki) -> None:
    openshift.password_idp = False
    with pytest.raises(ks.AuthError, match="does not accept a username and password"):
        ks.login(openshift.url, "developer", "developer-password", ca_file=str(test_pki.ca_file))


def test_login_verifies_tls(openshift: OpenShiftEmulation, apiserver: LocalApiServer) -> None:
    with pytest.raises(ks.SSLError):
        ks.login(openshift.url, "developer", "developer-password", ca_file=str(apiserver.ca_file))


def test_login_against_plain_kubernetes_says_so(apiserver: LocalApiServer) -> None:
    with pytest.raises((ks.AuthError, ks.ApiError)):
        ks.login(apiserver.server, "developer", "pw", ca_file=str(apiserver.ca_file))


def test_oauth_token_object_name() -> None:
    # sha256~ + unpadded base64url(sha256(part after the prefix))
    assert ks.openshift.oauth_token_name("sha256~abc") == "sha256~ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


def test_save_kubeconfig_makes_a_login_reusable(openshift: OpenShiftEmulation, test_pki: ServingPki,
                                                apiserver: LocalApiServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # An existing kubeconfig with another context must survive.
    existing = tmp_path / "config"
    apiserver.write_kubeconfig(existing, token=apiserver.admin_token, context="local-admin")
    s = ks.login(openshift.url, "developer", "developer-password", ca_file=str(test_pki.ca_file))
    monkeypatch.setenv("KUBECONFIG", str(existing))
    name = s.save_kubeconfig()
    assert name == f"127-0-0-1:{openshift.server.port}"
    assert existing.stat().st_mode & 0o777 == 0o600
    again = ks.Session()  # current-context is now the login
    assert again.whoami()["username"] == "developer"
    assert ks.Session(context="local-admin").get("/api/v1/namespaces/default").ok
    assert s.token is not None and s.token not in repr(again)

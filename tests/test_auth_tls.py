"""Authentication and TLS against the real kube-apiserver."""

from __future__ import annotations

import warnings

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.pki import ServingPki


def test_token_auth_gets_200(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    r = s.get("/version")
    assert r.status_code == 200 and r.ok
    assert r.json()["gitVersion"] == "v1.20.2"
    assert r.headers["content-type"] == r.headers["Content-Type"] == "application/json"


def test_bad_token_is_unauthorized(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token="not-a-valid-token", ca_file=str(apiserver.ca_file))
    r = s.get("/api/v1/namespaces")
    assert r.status_code == 401 and not r.ok
    with pytest.raises(ks.Unauthorized) as e:
        r.raise_for_status()
    assert e.value.status_code == 401 and e.value.reason == "Unauthorized"
    assert "not-a-valid-token" not in str(e.value) and "not-a-valid-token" not in repr(e.value)


def test_unbound_user_is_forbidden_with_rbac_message(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token=apiserver.unbound_token, ca_file=str(apiserver.ca_file))
    with pytest.raises(ks.Forbidden) as e:
        s.get("/api/v1/namespaces").raise_for_status()
    assert 'User "alice" cannot list resource "namespaces"' in e.value.message
    assert e.value.status is not None and e.value.status["kind"] == "Status"


def test_client_certificate_auth(apiserver: LocalApiServer) -> None:
    s = ks.Session(
        apiserver.server, ca_file=str(apiserver.ca_file),
        client_cert=str(apiserver.admin_cert), client_key=str(apiserver.admin_key),
    )
    assert s.get("/api/v1/namespaces/default").status_code == 200
    assert "auth=client-certificate" in repr(s)


def test_client_certificate_from_pem_data(apiserver: LocalApiServer) -> None:
    s = ks.Session(
        apiserver.server, ca_data=apiserver.ca_file.read_text(),
        client_cert_data=apiserver.admin_cert.read_bytes(), client_key_data=apiserver.admin_key.read_text(),
    )
    assert s.get("/api/v1/namespaces/default").status_code == 200


def test_no_credentials_is_unauthorized(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, ca_file=str(apiserver.ca_file))
    with pytest.raises(ks.Unauthorized):
        s.get("/api").raise_for_status()


def test_wrong_ca_raises_sslerror_that_explains(apiserver: LocalApiServer, test_pki: ServingPki) -> None:
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(test_pki.ca_file))
    with pytest.raises(ks.SSLError) as e:
        s.get("/version")
    msg = str(e.value)
    assert "unknown issuer" in msg
    assert "server name '127.0.0.1'" in msg
    assert str(test_pki.ca_file) in msg
    assert apiserver.admin_token not in msg
    assert isinstance(e.value, ks.ConnectionError) and isinstance(e.value, ks.KubeError)


def test_system_roots_do_not_trust_the_cluster(apiserver: LocalApiServer) -> None:
    # REQUESTS_CA_BUNDLE/SSL_CERT_FILE are set on this machine; without a CA the system store is used.
    s = ks.Session(apiserver.server, token=apiserver.admin_token)
    with pytest.raises(ks.SSLError, match="system trust store"):
        s.get("/version")


def test_explicit_ca_wins_over_environment(apiserver: LocalApiServer, test_pki: ServingPki,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment points at a CA that does not sign the server: the explicit CA must win.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_pki.ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(test_pki.ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(test_pki.ca_file))
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))
    assert s.get("/version").status_code == 200
    # ... and an explicit wrong CA is not widened by a right one in the environment.
    monkeypatch.setenv("SSL_CERT_FILE", str(apiserver.ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(apiserver.ca_file))
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(test_pki.ca_file))
    with pytest.raises(ks.SSLError):
        s.get("/version")


def test_verify_path_like_requests(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token=apiserver.admin_token, verify=str(apiserver.ca_file))
    assert s.get("/version").ok


def test_verify_false_works_and_warns(apiserver: LocalApiServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = ks.Session(apiserver.server, token=apiserver.admin_token, verify=False)
        assert s.get("/version").status_code == 200
    categories = [w.category for w in caught]
    assert categories.count(ks.InsecureRequestWarning) >= 2  # at creation and per request
    assert "verify=False" in repr(s)


def test_tls_server_name_overrides_the_checked_name(apiserver: LocalApiServer) -> None:
    # Connect to 127.0.0.1 but verify as "localhost" (a SAN of the serving cert).
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file),
                   tls_server_name="localhost")
    assert s.get("/version").ok
    s = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file),
                   tls_server_name="api.elsewhere.example")
    with pytest.raises(ks.SSLError) as e:
        s.get("/version")
    assert "api.elsewhere.example" in str(e.value) and "localhost" in str(e.value)


def test_expired_server_certificate_is_explained(test_pki: ServingPki) -> None:
    from support.scripted_server import ScriptedServer, reply

    cert, key = test_pki.issue("expired", "expired", server=True, expired=True)
    with ScriptedServer(cert=str(cert), key=str(key), routes={"/x": lambda h, r: reply(h, 200)}) as srv:
        with pytest.raises(ks.SSLError, match="expired"):
            ks.Session(srv.url, ca_file=str(test_pki.ca_file)).get("/x")


def test_plain_http_server_on_https_url_is_explained(apiserver: LocalApiServer) -> None:
    from support.scripted_server import ScriptedServer, reply

    with ScriptedServer(routes={"/x": lambda h, r: reply(h, 200)}) as srv:
        s = ks.Session(srv.url.replace("http://", "https://"), ca_file=str(apiserver.ca_file))
        with pytest.raises(ks.SSLError, match="did not answer with TLS"):
            s.get("/x")


def test_token_never_in_repr_or_errors(apiserver: LocalApiServer, test_pki: ServingPki) -> None:
    secret = "sha256~never-show-this-token"
    s = ks.Session(apiserver.server, token=secret, ca_file=str(apiserver.ca_file))
    r = s.get("/api/v1/namespaces")
    texts = [repr(s), str(s), repr(r), str(r), repr(r.headers), repr(s.headers)]
    try:
        r.raise_for_status()
    except ks.ApiError as e:
        texts += [str(e), repr(e), repr(e.status)]
    bad = ks.Session(apiserver.server, token=secret, ca_file=str(test_pki.ca_file))
    try:
        bad.get("/version")
    except ks.SSLError as e:
        texts += [str(e), repr(e)]
    assert len(texts) == 11
    for t in texts:
        assert secret not in t and "never-show" not in t


def test_session_headers_are_sent_and_repr_redacts_authorization(apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, ca_file=str(apiserver.ca_file),
                   headers={"Authorization": f"Bearer {apiserver.admin_token}"})
    assert s.get("/api/v1/namespaces/default").ok
    assert apiserver.admin_token not in repr(s.headers)


def test_http1_by_default_and_http2_on_request(apiserver: LocalApiServer) -> None:
    token, ca_file = apiserver.admin_token, str(apiserver.ca_file)
    assert ks.Session(apiserver.server, token=token, ca_file=ca_file).get("/version").http_version == "HTTP/1.1"
    assert ks.Session(apiserver.server, http2=True, token=token, ca_file=ca_file).get("/version").http_version == "HTTP/2"

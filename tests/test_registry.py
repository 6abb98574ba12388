"""Registry helpers: the Docker config entry of `docker login -u unused -p <token>`, and the
registry client against the real Distribution registry (Debian's docker-registry 2.8) with
token auth, plus OpenShift's signature API against the emulation (tests/support/registry.py)."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.pki import ServingPki
from support.registry import DistributionRegistry, RegistryTokenService, push_image
from support.scripted_server import Handler, Recorded, ScriptedServer, reply


@pytest.fixture(scope="module")
def registry(apiserver: LocalApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    folder = tmp_path_factory.mktemp("registry")
    cert, key = apiserver.pki.issue("registry", "registry", server=True)
    admin = ks.Session(apiserver.server, token=apiserver.admin_token, ca_file=str(apiserver.ca_file))

    def validate(token: str) -> str | None:  # as OpenShift's registry does: ask the API server
        review = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json={"spec": {"token": token}}).json()
        status = review.get("status") or {}
        return status["user"]["username"] if status.get("authenticated") else None

    with RegistryTokenService(str(cert), str(key), folder, validate) as tokens, \
            DistributionRegistry(folder, str(cert), str(key), tokens) as reg:
        reg.digests = {
            tag: push_image(reg.url, tokens.realm, str(apiserver.ca_file), apiserver.admin_token, "myproject/hello", tag)
            for tag in ("v1", "v2")
        }
        yield reg


@pytest.fixture
def builder_session(apiserver: LocalApiServer, admin: ks.Session, namespace: str) -> ks.Session:
    """The docs' steps: a service account, a role for it, and its token in a Session."""
    admin.create_service_account("pusher", namespace)
    admin.grant_role("view", "pusher", namespace)
    token = admin.create_token("pusher", namespace)
    return ks.Session(apiserver.server, token=token, ca_file=str(apiserver.ca_file))


def test_registry_auth_is_docker_logins_entry(admin: ks.Session, apiserver: LocalApiServer) -> None:
    entry = admin.registry_auth("https://registry.example.com:5000/")
    auth = entry["auths"]["registry.example.com:5000"]["auth"]
    assert base64.b64decode(auth).decode() == f"unused:{apiserver.admin_token}"


def test_docker_login_merges_and_keeps_other_entries(admin: ks.Session, apiserver: LocalApiServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    config = tmp_path / ".docker" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {"quay.io": {"auth": "a2VlcDptZQ=="}}, "HttpHeaders": {"X-Keep": "1"}}))
    config.chmod(0o644)
    path = admin.docker_login("image-registry.example.com")
    assert path == str(config)
    doc = json.loads(config.read_text())
    assert doc["auths"]["quay.io"] == {"auth": "a2VlcDptZQ=="} and doc["HttpHeaders"] == {"X-Keep": "1"}
    assert base64.b64decode(doc["auths"]["image-registry.example.com"]["auth"]).decode() == f"unused:{apiserver.admin_token}"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # A file that is not JSON is left alone, with an error that does not quote it.
    config.write_text("{secret-garbage")
    with pytest.raises(ValueError, match="not valid JSON") as e:
        admin.docker_login("r.example.com", config_path=config)
    assert "secret-garbage" not in str(e.value)


def test_tags_and_manifest_through_the_bearer_challenge(registry: DistributionRegistry,
                                                        builder_session: ks.Session) -> None:
    reg = builder_session.registry(registry.url)  # the session's trust: the registry's cert has the cluster CA
    assert reg.ping()
    assert sorted(reg.tags("myproject/hello")) == ["v1", "v2"]
    m = reg.manifest("myproject/hello", "v1")
    assert m.digest == registry.digests["v1"] and m["schemaVersion"] == 2
    assert m.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert reg.manifest("myproject/hello", m.digest).digest == m.digest  # by digest too
    # The exchange sent the session's token as Basic unused:<token>, with the challenge's scope,
    # and the registry token is reused for that scope.
    asked = [q.get("scope") for q in registry.tokens.token_requests]
    assert asked.count("repository:myproject/hello:pull") == 1
    reg.tags("myproject/hello")
    assert [q.get("scope") for q in registry.tokens.token_requests].count("repository:myproject/hello:pull") == 1


def test_unknown_manifest_is_not_found_with_the_registry_message(registry: DistributionRegistry,
                                                                 admin: ks.Session) -> None:
    reg = admin.registry(registry.url)
    with pytest.raises(ks.NotFound, match="MANIFEST_UNKNOWN"):
        reg.manifest("myproject/hello", "no-such-tag")


def test_a_token_the_cluster_rejects_is_an_auth_error(registry: DistributionRegistry,
                                                      apiserver: LocalApiServer) -> None:
    s = ks.Session(apiserver.server, token="not-a-valid-token-123", ca_file=str(apiserver.ca_file))
    with pytest.raises(ks.AuthError, match="refused the session's token") as e:
        s.registry(registry.url).tags("myproject/hello")
    assert "not-a-valid-token-123" not in str(e.value)


def test_registry_tls_is_verified(registry: DistributionRegistry, admin: ks.Session, test_pki: ServingPki) -> None:
    reg = admin.registry(registry.url, ca_file=str(test_pki.ca_file))  # a CA that did not sign it
    with pytest.raises(ks.SSLError):
        reg.ping()


def test_the_token_goes_only_to_a_realm_on_the_registrys_host(admin: ks.Session, apiserver: LocalApiServer,
                                                              test_pki: ServingPki) -> None:
    sent: list[str | None] = []

    def challenge(realm: str) -> Handler:
        def handler(h: BaseHTTPRequestHandler, rec: Recorded) -> None:
            reply(h, 401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="x"'})
        return handler

    def token(h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        sent.append(rec.headers.get("authorization"))
        reply(h, 200, json.dumps({"token": "registry-token"}).encode())

    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key)) as srv:
        srv.routes["/token"] = token
        srv.routes["/v2/"] = challenge(f"https://localhost:{srv.port}/token")  # another host name
        reg = admin.registry(srv.url, ca_file=str(test_pki.ca_file))
        with pytest.raises(ks.AuthError, match="realm_hosts"):
            reg.ping()
        srv.routes["/v2/"] = challenge(f"http://127.0.0.1:{srv.port}/token")  # plain http
        with pytest.raises(ks.InsecureTransportError):
            reg.ping()
        assert sent == []
        srv.routes["/v2/"] = challenge(f"https://localhost:{srv.port}/token")
        reg = admin.registry(srv.url, ca_file=str(test_pki.ca_file), realm_hosts=["localhost"])
        assert not reg.ping()  # the scripted registry never accepts; the exchange happened
        assert sent == ["Basic " + base64.b64encode(f"unused:{apiserver.admin_token}".encode()).decode()]


def test_signatures_put_and_list_on_the_openshift_extension(registry: DistributionRegistry,
                                                            builder_session: ks.Session) -> None:
    digest = registry.digests["v1"]
    ext = builder_session.registry(registry.tokens.url)  # OpenShift's registry serves the extension
    assert ext.signatures("myproject/hello", digest) == []
    name = ext.put_signature("myproject/hello", digest, b"\x89signed-bytes")
    assert name.startswith(digest + "@") and len(name.split("@")[1]) == 32
    sigs = ext.signatures("myproject/hello", digest)
    assert sigs == [{"version": 2, "type": "atomic", "name": name, "content": b"\x89signed-bytes"}]
    with pytest.raises(ks.ApiError, match="SIGNATURE_EXISTS"):
        ext.put_signature("myproject/hello", digest, b"again", name=name)
    with pytest.raises(ValueError, match="namespace"):
        ext.signatures("hello", digest)

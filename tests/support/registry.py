"""A real container registry for the registry tests, and the OpenShift parts around it that
no real server provides.

- :class:`DistributionRegistry` runs Debian's ``docker-registry`` (the real Distribution
  registry 2.8) on 127.0.0.1 over TLS, configured for token auth (``auth: token``) against the
  token service below.
- :class:`RegistryTokenService` emulates OpenShift's integrated-registry endpoints, following
  the protocol they document:

  * ``GET /openshift/token?service=S&scope=repository:NS/NAME:pull,push`` with HTTP Basic
    ``<anything>:<OpenShift token>`` (``docker login -u unused -p $(oc whoami -t)``): the token
    is checked with ``validate`` (the tests use a TokenReview against the real API server);
    ``401`` when it is missing or invalid. The answer is the registry token of Docker's "Token
    Authentication Specification": ``{"token", "access_token", "expires_in", "issued_at"}``,
    a JWT (ES256, the signing certificate in ``x5c``) whose ``access`` claim grants the
    requested actions, so that the Distribution registry accepts it. (OpenShift's registry
    answers with the OpenShift token itself and checks it against the API; the exchange the
    client performs is the same.) This emulation has no RBAC: a valid token gets every
    requested action.
  * ``GET|PUT /extensions/v2/NS/NAME/signatures/DIGEST``: OpenShift's image-signature API.
    GET answers ``{"signatures": [{"version", "type", "name", "content"}]}`` (content base64);
    PUT takes one such object, ``name`` of the form ``DIGEST@<32 hex>``, and answers 201;
    a bad body or name is 400, a name stored already 409. Without a registry token granting
    ``pull`` (GET) or ``push`` (PUT) on the repository: ``401`` with
    ``WWW-Authenticate: Bearer realm="{url}/openshift/token",service=...,scope=...``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import io
import json
import re
import secrets
import shutil
import ssl
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from .scripted_server import Recorded, ScriptedServer, reply

SERVICE = "kubesession-test-registry"
ISSUER = "kubesession-test-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class RegistryTokenService:
    def __init__(self, cert: str, key: str, folder: Path, validate: Callable[[str], str | None]):
        self.cert, self.key, self.validate = cert, key, validate
        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubesession test registry token signer")])
        self.signing_cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.signing_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .sign(self.signing_key, hashes.SHA256())
        )
        self.bundle = folder / "token-signer.crt"
        self.bundle.write_bytes(self.signing_cert.public_bytes(serialization.Encoding.PEM))
        self.issued: dict[str, list[dict[str, Any]]] = {}  # registry token -> access
        self.signatures: dict[str, list[dict[str, Any]]] = {}  # "ns/name@digest" -> signatures
        self.token_requests: list[dict[str, str]] = []

    def __enter__(self) -> "RegistryTokenService":
        self.server = ScriptedServer(cert=self.cert, key=self.key, routes={
            "/openshift/token": self._token,
            "/extensions/v2/*": self._signatures,
        }).start()
        self.url = self.server.url
        self.realm = f"{self.url}/openshift/token"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    # -- the token endpoint ---------------------------------------------------------------
    def _token(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(rec.path).query).items()}
        self.token_requests.append(query)
        header = rec.headers.get("authorization", "")
        user = None
        if header.lower().startswith("basic "):
            try:
                _, _, token = base64.b64decode(header[6:]).decode().partition(":")
                user = self.validate(token) if token else None
            except ValueError:
                user = None
        if user is None:
            reply(h, 401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode(),
                  {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="openshift"'})
            return
        access = []
        for scope in query.get("scope", "").split(" "):
            parts = scope.split(":")
            if len(parts) == 3:
                access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
        token = self.issue(user, query.get("service", ""), access)
        now = datetime.datetime.now(datetime.timezone.utc)
        body = {"token": token, "access_token": token, "expires_in": 300, "issued_at": now.isoformat()}
        reply(h, 200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def issue(self, subject: str, audience: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256",
                  "x5c": [base64.b64encode(self.signing_cert.public_bytes(serialization.Encoding.DER)).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": audience, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(16), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self.signing_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        token = f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        self.issued[token] = access
        return token

    # -- OpenShift's signature extension --------------------------------------------------
    def _signatures(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        m = re.fullmatch(r"/extensions/v2/([^/]+)/([^/]+)/signatures/(sha256:[0-9a-f]{64})", urlsplit(rec.path).path)
        if m is None:
            reply(h, 404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"not found"}]}')
            return
        repo, digest = f"{m.group(1)}/{m.group(2)}", m.group(3)
        needed = "pull" if rec.method == "GET" else "push"
        header = rec.headers.get("authorization", "")
        access = self.issued.get(header[7:]) if header.lower().startswith("bearer ") else None
        if access is None or not any(a["name"] == repo and needed in a["actions"] for a in access):
            scope = f"repository:{repo}:{'pull' if needed == 'pull' else 'pull,push'}"
            reply(h, 401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode(),
                  {"Content-Type": "application/json",
                   "WWW-Authenticate": f'Bearer realm="{self.realm}",service="{SERVICE}",scope="{scope}"'})
            return
        key = f"{repo}@{digest}"
        if rec.method == "GET":
            body = {"signatures": self.signatures.get(key, [])}
            reply(h, 200, json.dumps(body).encode(), {"Content-Type": "application/json"})
            return
        if rec.method != "PUT":
            reply(h, 405, b"")
            return
        try:
            sig = json.loads(rec.body)
            ok = (sig["version"] == 2 and sig["type"] == "atomic" and isinstance(sig["content"], str)
                  and re.fullmatch(re.escape(digest) + r"@[0-9a-f]{32}", sig["name"]) is not None)
            base64.b64decode(sig["content"], validate=True)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            reply(h, 400, b'{"errors":[{"code":"SIGNATURE_INVALID","message":"invalid image signature"}]}',
                  {"Content-Type": "application/json"})
            return
        stored = self.signatures.setdefault(key, [])
        if any(s["name"] == sig["name"] for s in stored):
            reply(h, 409, b'{"errors":[{"code":"SIGNATURE_EXISTS","message":"signature already exists"}]}',
                  {"Content-Type": "application/json"})
            return
        stored.append({k: sig[k] for k in ("version", "type", "name", "content")})
        reply(h, 201, b"")


class DistributionRegistry:
    """``docker-registry serve`` on 127.0.0.1 with TLS and token auth."""

    def __init__(self, folder: Path, cert: str, key: str, tokens: RegistryTokenService) -> None:
        self.folder, self.cert, self.key, self.tokens = folder, cert, key, tokens
        self.digests: dict[str, str] = {}  # tag -> manifest digest, of the images a test pushed

    def __enter__(self) -> "DistributionRegistry":
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError("docker-registry is not installed (apt-get install docker-registry); "
                               "scripts/test.sh installs it")
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{port}"
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.folder / "data")}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16),
                     "tls": {"certificate": self.cert, "key": self.key}},
            "auth": {"token": {"realm": self.tokens.realm, "service": SERVICE, "issuer": ISSUER,
                               "rootcertbundle": str(self.tokens.bundle)}},
        }
        cfg = self.folder / "config.yml"
        cfg.write_text(json.dumps(config))  # JSON is YAML
        self.log = self.folder / "registry.log"
        self.proc = subprocess.Popen([binary, "serve", str(cfg)], stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not listen within 20 s: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def push_image(registry_url: str, realm: str, ca_file: str, session_token: str, repository: str, tag: str) -> str:
    """Pushes a one-layer image the way ``docker push`` does (token exchange, blob uploads,
    manifest PUT), with nothing but the standard library. Returns the manifest digest."""
    ctx = ssl.create_default_context(cafile=ca_file)
    basic = base64.b64encode(f"unused:{session_token}".encode()).decode()
    query = f"service={SERVICE}&scope=repository:{repository}:pull,push"
    with urllib.request.urlopen(urllib.request.Request(f"{realm}?{query}", headers={"Authorization": f"Basic {basic}"}),
                                context=ctx) as r:
        bearer = {"Authorization": f"Bearer {json.loads(r.read())['token']}"}

    def call(method: str, url: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        req = urllib.request.Request(url, data=body, method=method, headers={**bearer, **(headers or {})})
        response: http.client.HTTPResponse = urllib.request.urlopen(req, context=ctx)
        return response

    def upload(blob: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        with call("POST", f"{registry_url}/v2/{repository}/blobs/uploads/", b"") as r:
            location = r.headers["Location"]
        if location.startswith("/"):
            location = registry_url + location
        sep = "&" if "?" in location else "?"
        with call("PUT", f"{location}{sep}digest={digest}", blob, {"Content-Type": "application/octet-stream"}) as r:
            assert r.status == 201, r.status
        return digest

    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        data = f"hello from {repository}:{tag}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_tar = tar_bytes.getvalue()
    import gzip

    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]}}
                        ).encode()
    layer_digest, config_digest = upload(layer), upload(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": layer_digest}],
    }).encode()
    try:
        with call("PUT", f"{registry_url}/v2/{repository}/manifests/{tag}", manifest,
                  {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}) as r:
            return str(r.headers["Docker-Content-Digest"])
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"manifest push failed: {e.code} {e.read()[:500]!r}") from None

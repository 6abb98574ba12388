"""A faithful local emulation of the parts of OpenShift that no real Kubernetes API server
has: the OAuth server's challenging-client login, the user API and OAuth token deletion.
kubesession's OpenShift code is tested against it; everything else against the real
kube-apiserver.

The protocol it follows (OpenShift 4 documentation, "Understanding authentication" and
"Configuring the internal OAuth server"; the behaviour `oc login` relies on):

- ``GET /.well-known/oauth-authorization-server`` (served by the API server, anonymous):
  the OAuth 2.0 authorization server metadata (RFC 8414), with ``issuer``,
  ``authorization_endpoint`` (``{oauth}/oauth/authorize``) and ``token_endpoint``.
- ``GET /oauth/authorize?response_type=token&client_id=openshift-challenging-client``:
  the challenging client must send ``X-CSRF-Token`` (else 400: the header guards against
  browsers being made to answer challenges). Without valid credentials: ``401`` with
  ``WWW-Authenticate: Basic realm="openshift"`` (only for identity providers that accept
  passwords). With valid HTTP Basic credentials: ``302`` to
  ``{oauth}/oauth/token/implicit#access_token=sha256~…&expires_in=86400&scope=user%3Afull&token_type=Bearer``.
- ``GET /apis/user.openshift.io/v1/users/~`` with ``Authorization: Bearer <token>``: the
  ``User`` object of the token's owner; 401 for an unknown token.
- ``DELETE /apis/oauth.openshift.io/v1/oauthaccesstokens/<name>``: deletes a token; for
  ``sha256~`` tokens the object name is ``sha256~`` + unpadded base64url(SHA-256(the part
  after the prefix)); afterwards the token is refused (401).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .scripted_server import Recorded, ScriptedServer, reply


def token_object_name(token: str) -> str:
    digest = hashlib.sha256(token[len("sha256~"):].encode()).digest()
    return "sha256~" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class OpenShiftEmulation:
    cert: str
    key: str
    users: dict[str, str] = field(default_factory=lambda: {"developer": "developer-password"})
    #: False: an identity provider that cannot take a password (no Basic challenge).
    password_idp: bool = True
    tokens: dict[str, str] = field(default_factory=dict)  # token -> user

    def __enter__(self) -> "OpenShiftEmulation":
        self.server = ScriptedServer(cert=self.cert, key=self.key, routes={
            "/.well-known/oauth-authorization-server": self._discovery,
            "/oauth/authorize": self._authorize,
            "/apis/user.openshift.io/v1/users/~": self._whoami,
        })
        self.server.start()
        self.url = self.server.url
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def _discovery(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        body = {"issuer": self.url, "authorization_endpoint": f"{self.url}/oauth/authorize",
                "token_endpoint": f"{self.url}/oauth/token", "response_types_supported": ["code", "token"],
                "grant_types_supported": ["authorization_code", "implicit"]}
        reply(h, 200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _authorize(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        if "x-csrf-token" not in rec.headers:
            reply(h, 400, b"CSRF token missing")
            return
        if "client_id=openshift-challenging-client" not in rec.path or "response_type=token" not in rec.path:
            reply(h, 400, b"unsupported client or response type")
            return
        if not self.password_idp:
            reply(h, 401, b"", {"WWW-Authenticate": 'Bearer realm="openshift"'})
            return
        user = self._basic_user(rec.headers.get("authorization", ""))
        if user is None:
            reply(h, 401, b"", {"WWW-Authenticate": 'Basic realm="openshift"'})
            return
        token = "sha256~" + secrets.token_urlsafe(32)
        self.tokens[token] = user
        self.server.routes[f"/apis/oauth.openshift.io/v1/oauthaccesstokens/{token_object_name(token)}"] = self._delete
        location = (f"{self.url}/oauth/token/implicit#access_token={token}&expires_in=86400"
                    "&scope=user%3Afull&token_type=Bearer")
        reply(h, 302, b"", {"Location": location})

    def _basic_user(self, header: str) -> str | None:
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user if self.users.get(user) == password else None

    def _bearer_user(self, rec: Recorded) -> str | None:
        header = rec.headers.get("authorization", "")
        return self.tokens.get(header[7:]) if header.lower().startswith("bearer ") else None

    def _whoami(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        user = self._bearer_user(rec)
        if user is None:
            reply(h, 401, json.dumps({"kind": "Status", "status": "Failure", "reason": "Unauthorized",
                                      "code": 401, "message": "Unauthorized"}).encode())
            return
        body = {"kind": "User", "apiVersion": "user.openshift.io/v1",
                "metadata": {"name": user, "uid": f"uid-{user}"}, "identities": [f"htpasswd:{user}"],
                "groups": ["system:authenticated", "system:authenticated:oauth"]}
        reply(h, 200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _delete(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        caller = self._bearer_user(rec)
        name = rec.path.rsplit("/", 1)[-1]
        owned = [t for t, u in self.tokens.items() if token_object_name(t) == name]
        if rec.method != "DELETE" or caller is None or not owned:
            reply(h, 404 if caller else 401, b'{"kind":"Status","code":404}')
            return
        for t in owned:
            del self.tokens[t]
        reply(h, 200, json.dumps({"kind": "Status", "status": "Success"}).encode())

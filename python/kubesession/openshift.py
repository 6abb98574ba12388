"""OpenShift's OAuth login for command-line clients (the "challenging client" flow that
``oc login -u USER`` uses) and logout.

1. ``GET {server}/.well-known/oauth-authorization-server`` names the OAuth server.
2. ``GET {authorization_endpoint}?response_type=token&client_id=openshift-challenging-client``
   with ``X-CSRF-Token`` and HTTP Basic credentials; the redirect is not followed.
3. The ``302``'s ``Location`` fragment holds ``access_token`` and ``expires_in``.

A 401 that offers no Basic challenge means the identity provider cannot take a password
(an SSO-only provider): that is an AuthError saying so, not a retry.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from .exceptions import AuthError, Unauthorized

if TYPE_CHECKING:
    from typing import Unpack

    from ._options import LoginOptions, PathLike
    from .sessions import Session

CHALLENGING_CLIENT = "openshift-challenging-client"


def login(server: str, username: str, password: str, ca_file: PathLike | None = None,
          **kwargs: Unpack[LoginOptions]) -> "Session":
    """A Session holding a fresh OAuth token for ``username`` (``oc login -u USER``)::

        s = ks.login("https://api.cluster.example:6443", "developer", getpass(), ca_file="ca.crt")

    The keywords are Session keywords (``ca_data``, ``verify``, ``proxy``, ...): the same TLS
    rules hold for the OAuth server, which may live on another host.
    """
    from .sessions import Session

    anonymous = Session(server, ca_file=ca_file, follow_redirects=False, **kwargs)
    r = anonymous.get("/.well-known/oauth-authorization-server")
    if r.status_code == 404:
        raise AuthError(f"{server} has no OAuth server (/.well-known/oauth-authorization-server): is it OpenShift?")
    r.raise_for_status()
    endpoint = r.json().get("authorization_endpoint")
    if not endpoint or not str(endpoint).startswith("https://"):
        raise AuthError(f"the OAuth discovery document of {server} names no https authorization_endpoint")
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    r = anonymous.get(
        endpoint,
        params={"response_type": "token", "client_id": CHALLENGING_CLIENT},
        headers={"X-CSRF-Token": "1", "Authorization": f"Basic {basic}"},
    )
    if r.status_code == 401:
        challenge = r.headers.get("www-authenticate", "")
        if "basic" not in challenge.lower():
            raise AuthError(
                f"the identity provider of {server} does not accept a username and password "
                "(no Basic challenge); log in through the web console and use its token"
            )
        raise Unauthorized(f"401 Unauthorized: login failed for user {username!r}", status_code=401,
                           reason="Unauthorized", message="invalid username or password", url=endpoint)
    if r.status_code != 302:
        r.raise_for_status()
        raise AuthError(f"the OAuth server answered {r.status_code}, not a redirect with a token")
    fragment = parse_qs(urlsplit(r.headers.get("location", "")).fragment)
    if "error" in fragment:
        raise AuthError(f"OAuth login failed: {fragment['error'][0]}: {fragment.get('error_description', [''])[0]}")
    token = (fragment.get("access_token") or [""])[0]
    if not token:
        raise AuthError("the OAuth server's redirect carries no access_token")
    anonymous.close()
    session = Session(server, token=token, ca_file=ca_file, **kwargs)
    expires = (fragment.get("expires_in") or [""])[0]
    session.token_expires_in = int(expires) if expires.isdigit() else None
    return session


def oauth_token_name(token: str) -> str:
    """The ``oauthaccesstokens`` object name of a ``sha256~`` token: ``sha256~`` + unpadded
    base64url of the SHA-256 of the part after the prefix."""
    prefix = "sha256~"
    if not token.startswith(prefix):
        return token  # older clusters name the object by the token itself
    digest = hashlib.sha256(token[len(prefix):].encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def logout(s: "Session") -> None:
    token = s.token
    if not token:
        raise AuthError("logout: this session has no OAuth token")
    r = s.delete(f"/apis/oauth.openshift.io/v1/oauthaccesstokens/{oauth_token_name(token)}")
    r.raise_for_status()
    s.close()

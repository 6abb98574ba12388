"""Container registries with the Session's token, as OpenShift's docs do it with
``docker login -u unused -p $(oc whoami -t) REGISTRY``:

- :func:`registry_auth` / :func:`docker_login`: the Docker config entry for that login.
- :class:`Registry`: a small client of the Docker Registry HTTP API v2 (``tags``,
  ``manifest``) and of OpenShift's image-signature extension.

Authentication follows the registry token protocol (Docker's "Token Authentication
Specification", which Distribution and OpenShift's registry implement): a request without a
token gets ``401`` with ``WWW-Authenticate: Bearer realm="...",service="...",scope="..."``;
the client asks the realm for a token with HTTP Basic ``unused:<session token>`` and the
``service`` and ``scope`` parameters, then repeats the request with ``Bearer <that token>``.

The session's token is a cluster credential. It goes only over https (with the registry
client's TLS verification) and only to a realm on the registry's own host, unless the host
is named in ``realm_hosts``: a registry cannot send it to a third party.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .exceptions import ApiError, AuthError, Forbidden, InsecureTransportError, NotFound, ServerError, Unauthorized

if TYPE_CHECKING:
    from ._core import Response
    from ._options import PathLike
    from .sessions import Session

#: What a manifest request accepts: single-platform and multi-platform, Docker and OCI.
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def registry_host(registry: str) -> str:
    """``https://registry.example.com:5000/`` -> ``registry.example.com:5000`` (the key
    Docker uses in ``auths``)."""
    text = registry.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    host = text.split("/", 1)[0]
    if not host:
        raise ValueError(f"no registry host in {registry!r}")
    return host


def registry_auth(token: str, registry: str) -> dict[str, Any]:
    """The Docker config entry of ``docker login -u unused -p <token> REGISTRY``."""
    auth = base64.b64encode(f"unused:{token}".encode()).decode()
    return {"auths": {registry_host(registry): {"auth": auth}}}


def docker_login(token: str, registry: str, config_path: PathLike | None = None) -> str:
    """Merges :func:`registry_auth` into a Docker config file (default
    ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``): other entries are kept,
    the file is replaced atomically and has mode 0600. Returns its path."""
    if config_path is None:
        folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
        config_path = os.path.join(folder, "config.json")
    path = os.fspath(config_path)
    config: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read()
        if raw.strip():
            try:
                config = json.loads(raw)
            except ValueError as e:
                raise ValueError(f"{path} is not valid JSON ({e}); not touching it") from None
            if not isinstance(config, dict):
                raise ValueError(f"{path} does not hold a JSON object; not touching it")
    host = registry_host(registry)
    if config.get("credsStore") or (config.get("credHelpers") or {}).get(host):
        warnings.warn(f"{path} names a credential helper, which docker consults before 'auths' for {host}",
                      UserWarning, stacklevel=3)
    auths = config.setdefault("auths", {})
    auths[host] = {**auths.get(host, {}), **registry_auth(token, host)["auths"][host]}
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f, indent="\t")
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_bearer_challenge(header: str) -> dict[str, str] | None:
    """``Bearer realm="https://r/token",service="r",scope="repository:a/b:pull"`` as a dict;
    None when the header is not a Bearer challenge."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace('\\"', '"')
            for m in _CHALLENGE_PARAM.finditer(params)}


class Manifest(dict):  # type: ignore[type-arg]
    """A manifest as a dict, with the registry's ``digest`` and ``media_type``."""

    digest: str
    media_type: str


class Registry:
    """A registry client that authenticates with a Session's token::

        reg = s.registry("https://image-registry.apps.example.com")
        reg.tags("myproject/myapp")             # ["latest", "v1"]
        m = reg.manifest("myproject/myapp", "latest")
        m.digest                                 # "sha256:..."
        reg.signatures("myproject/myapp", m.digest)

    TLS: the session's trust (its CA, or ``verify=False``) unless ``ca_file``, ``ca_data`` or
    ``verify`` says otherwise. Registry tokens are cached per scope until they expire.
    """

    def __init__(self, session: Session, url: str, *, ca_file: PathLike | None = None, ca_data: str | bytes | None = None,
                 verify: bool | PathLike | None = None, realm_hosts: Iterable[str] = (), timeout: Any = None) -> None:
        from .sessions import Session

        if "://" not in url:
            url = f"https://{url}"
        self.url = url.rstrip("/")
        self._session = session
        trust: dict[str, Any] = {}
        if ca_file is not None or ca_data is not None:
            trust = {"ca_file": ca_file, "ca_data": ca_data}
        elif verify is not None:
            trust = {"verify": verify}
        elif not session.verify:
            trust = {"verify": False}
        elif session._client.ca_pem:
            trust = {"ca_data": session._client.ca_pem}
        if timeout is not None:
            trust["timeout"] = timeout
        # No credentials of its own: the Authorization header of each request is set here.
        self._http = Session(self.url, follow_redirects=True, **trust)
        self._host = urlsplit(self.url).hostname or ""
        self._realm_hosts = {self._host, *realm_hosts}
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, expiry)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Registry {self.url}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the registry speaks API v2 and accepts the session's token (``GET /v2/``)."""
        return self._request("GET", "/v2/", scope="").status_code == 200

    def tags(self, repository: str) -> list[str]:
        """The repository's tags (``GET /v2/<name>/tags/list``, following ``Link`` pages)."""
        scope = f"repository:{repository}:pull"
        path: str | None = f"/v2/{repository}/tags/list"
        tags: list[str] = []
        while path:
            r = self._checked("GET", path, scope=scope)
            tags += r.json().get("tags") or []
            path = _next_link(r.headers.get("link"))
        return tags

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest of a tag or digest (Docker v2 / OCI, single or multi-platform)."""
        r = self._checked("GET", f"/v2/{repository}/manifests/{reference}", scope=f"repository:{repository}:pull",
                          headers={"Accept": MANIFEST_TYPES})
        m = Manifest(r.json())
        m.digest = r.headers.get("docker-content-digest") or ""
        m.media_type = (r.headers.get("content-type") or m.get("mediaType") or "").split(";")[0]
        return m

    def signatures(self, repository: str, digest: str) -> list[dict[str, Any]]:
        """OpenShift's image signatures of ``digest``
        (``GET /extensions/v2/<namespace>/<name>/signatures/<digest>``). Each is a dict with
        ``version``, ``name``, ``type`` and ``content`` (bytes, decoded from base64)."""
        r = self._checked("GET", _signature_path(repository, digest), scope=f"repository:{repository}:pull")
        out = []
        for sig in r.json().get("signatures") or []:
            sig = dict(sig)
            sig["content"] = base64.b64decode(sig.get("content") or "")
            out.append(sig)
        return out

    def put_signature(self, repository: str, digest: str, content: bytes, name: str | None = None,
                      type: str = "atomic", version: int = 2) -> str:
        """Stores a signature of ``digest`` (``PUT`` on the signature extension). ``name``
        defaults to ``<digest>@<32 random hex digits>``, the form OpenShift asks for.
        Returns the name."""
        name = name or f"{digest}@{secrets.token_hex(16)}"
        body = {"version": version, "type": type, "name": name, "content": base64.b64encode(content).decode()}
        self._checked("PUT", _signature_path(repository, digest), scope=f"repository:{repository}:pull,push",
                      json=body)
        return name

    # -- the token protocol ------------------------------------------------------------
    def _checked(self, method: str, path: str, scope: str, **kwargs: Any) -> Response:
        r = self._request(method, path, scope, **kwargs)
        if r.status_code >= 400:
            raise _registry_error(r, method, self.url + path)
        return r

    def _request(self, method: str, path: str, scope: str, **kwargs: Any) -> Response:
        headers = dict(kwargs.pop("headers", None) or {})
        cached = self._cached_token(scope)
        if cached:
            headers["Authorization"] = f"Bearer {cached}"
        r = self._http.request(method, self.url + path, headers=headers, **kwargs)
        if r.status_code != 401:
            return r
        challenge = parse_bearer_challenge(r.headers.get("www-authenticate", ""))
        if challenge is None or "realm" not in challenge:
            return r  # no token protocol to follow: the caller sees the 401
        token = self._fetch_token(challenge, challenge.get("scope", scope))
        headers["Authorization"] = f"Bearer {token}"
        return self._http.request(method, self.url + path, headers=headers, **kwargs)

    def _cached_token(self, scope: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(scope)
        return entry[0] if entry and entry[1] > time.monotonic() else None

    def _fetch_token(self, challenge: dict[str, str], scope: str) -> str:
        realm = challenge["realm"]
        parts = urlsplit(realm)
        if parts.scheme != "https":
            raise InsecureTransportError(f"the registry {self.url} asks for its token at {realm}, which is not "
                                         "https; refusing to send the session's token there")
        if parts.hostname not in self._realm_hosts:
            raise AuthError(f"the registry {self.url} asks for its token at {parts.hostname}, another host; pass "
                            f"realm_hosts=[{parts.hostname!r}] to s.registry() if you trust it with your token")
        session_token = self._session.token
        if not session_token:
            raise AuthError(f"the registry {self.url} wants a token and this session has no bearer token")
        params = {"service": challenge.get("service", "")}
        if scope:
            params["scope"] = scope
        basic = base64.b64encode(f"unused:{session_token}".encode()).decode()
        r = self._http.get(realm, params=params, headers={"Authorization": f"Basic {basic}"})
        if r.status_code in (401, 403):
            raise AuthError(f"the registry's token service {parts.scheme}://{parts.netloc}{parts.path} refused the "
                            f"session's token ({r.status_code}) for scope {scope or '(none)'}")
        if r.status_code >= 400:
            raise _registry_error(r, "GET", f"{parts.scheme}://{parts.netloc}{parts.path}")
        body = r.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise AuthError(f"the registry's token service {parts.netloc} answered without a token")
        lifetime = int(body.get("expires_in") or 60)  # the spec's default lifetime
        with self._lock:
            self._tokens[scope] = (token, time.monotonic() + max(lifetime - 10, 1))
        return str(token)


def _signature_path(repository: str, digest: str) -> str:
    namespace, sep, name = repository.partition("/")
    if not sep or "/" in name:
        raise ValueError(f"OpenShift image signatures need a <namespace>/<name> repository, not {repository!r}")
    return f"/extensions/v2/{quote(namespace)}/{quote(name)}/signatures/{quote(digest, safe=':')}"


def _next_link(header: str | None) -> str | None:
    """The path of ``Link: </v2/x/tags/list?last=a&n=100>; rel="next"``."""
    if not header:
        return None
    m = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', header)
    if not m:
        return None
    parts = urlsplit(m.group(1))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _registry_error(r: Response, method: str, url: str) -> ApiError:
    """The registry's ``{"errors": [{"code", "message"}]}`` as one readable exception."""
    detail = ""
    try:
        errors = r.json().get("errors") or []
        detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors)
    except ValueError:
        pass
    split = urlsplit(url)
    shown = f"{split.scheme}://{split.netloc}{split.path}"
    message = f"{r.status_code} {r.reason} for {method} {shown}" + (f": {detail}" if detail else "")
    cls = {401: Unauthorized, 403: Forbidden, 404: NotFound}.get(r.status_code, ServerError if r.status_code >= 500 else ApiError)
    return cls(message, status_code=r.status_code, reason=r.reason, message=detail or r.reason, url=shown)

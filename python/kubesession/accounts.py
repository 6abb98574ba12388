"""Who you are and service accounts: the steps of OpenShift's and Kubernetes' docs
(`oc whoami`, `oc create sa`, `oc policy add-role-to-user`, `oc create token`) as thin
helpers over the Session's requests."""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .exceptions import AuthError, NotFound

if TYPE_CHECKING:
    from .sessions import Session


def whoami(s: "Session") -> dict[str, Any]:
    """The current user: ``{"username", "uid", "groups", "extra", "source"}``.

    OpenShift's ``user.openshift.io/v1/users/~`` where served; else ``SelfSubjectReview``
    (Kubernetes 1.27+); else a ``TokenReview`` of the session's own token (which needs
    permission to create tokenreviews).
    """
    r = s.get("/apis/user.openshift.io/v1/users/~")
    if r.ok:
        user = r.json()
        meta = user.get("metadata") or {}
        return {"username": meta.get("name"), "uid": meta.get("uid"), "groups": user.get("groups") or [],
                "extra": {}, "source": "user.openshift.io/v1/users/~"}
    for version in ("v1", "v1beta1", "v1alpha1"):
        r = s.post(f"/apis/authentication.k8s.io/{version}/selfsubjectreviews",
                   json={"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"})
        if r.status_code in (403, 404, 405):
            # Not served. (An API server authorizes before it routes: for most users an
            # unknown resource is 403, not 404. Where it is served, every user may create it.)
            continue
        r.raise_for_status()
        return _user(r.json()["status"]["userInfo"], f"SelfSubjectReview {version}")
    token = s.token
    if not token:
        raise AuthError("whoami: this server has no SelfSubjectReview and the session has no bearer token to review")
    r = s.post("/apis/authentication.k8s.io/v1/tokenreviews",
               json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
    r.raise_for_status()
    status = r.json().get("status") or {}
    if not status.get("authenticated"):
        raise AuthError(f"whoami: the session's token is not valid ({status.get('error') or 'not authenticated'})")
    return _user(status["user"], "TokenReview")


def _user(info: dict[str, Any], source: str) -> dict[str, Any]:
    return {"username": info.get("username"), "uid": info.get("uid"), "groups": info.get("groups") or [],
            "extra": info.get("extra") or {}, "source": source}


def create_service_account(s: "Session", name: str, namespace: str | None = None) -> dict[str, Any]:
    """Creates a ServiceAccount (``oc create sa NAME``) and returns it."""
    ns = namespace or s.namespace
    r = s.post(f"/api/v1/namespaces/{ns}/serviceaccounts",
               json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    return result


def grant_role(s: "Session", role: str, service_account: str, namespace: str | None = None,
               cluster_role: bool = True) -> dict[str, Any]:
    """Binds ``role`` (a ClusterRole, or a Role with ``cluster_role=False``) to a service
    account in ``namespace`` with a RoleBinding (``oc policy add-role-to-user ROLE -z SA``)."""
    ns = namespace or s.namespace
    name = re.sub(r"[^a-z0-9.-]+", "-", f"{service_account}-{role}".lower()).strip("-.")[:253]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole" if cluster_role else "Role",
                    "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": ns}],
    }
    r = s.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", json=binding)
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    return result


def create_token(s: "Session", service_account: str, namespace: str | None = None,
                 expiration_seconds: int = 3600, audiences: list[str] | None = None) -> str:
    """A token for a service account from the TokenRequest API (``oc create token SA``)."""
    token: str = _token_request(s, service_account, namespace, expiration_seconds, audiences)["token"]
    return token


def _token_request(s: "Session", service_account: str, namespace: str | None, expiration_seconds: int,
                   audiences: list[str] | None) -> dict[str, Any]:
    """The TokenRequest's status: ``token`` and ``expirationTimestamp``."""
    ns = namespace or s.namespace
    spec: dict[str, Any] = {"expirationSeconds": int(expiration_seconds)}
    if audiences:
        spec["audiences"] = list(audiences)
    r = s.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{service_account}/token",
               json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    if r.status_code == 404:
        try:
            r.raise_for_status()
        except NotFound as e:
            raise NotFound(f"service account {ns}/{service_account} not found: {e.message}", status_code=404,
                           reason="NotFound", message=e.message, details=e.details, status=e.status, url=e.url) from None
    r.raise_for_status()
    status: dict[str, Any] = r.json()["status"]
    return status


class ServiceAccountTokenSource:
    """A service account's token as the ``token=`` of another Session: requested from the
    TokenRequest API, and renewed before 80 % of its lifetime has passed (and after a 401)::

        robot = ks.Session(admin.server, ca_data=..., token=ks.ServiceAccountTokenSource(admin, "robot", "ns"))
    """

    def __init__(self, session: "Session", service_account: str, namespace: str | None = None,
                 expiration_seconds: int = 3600, audiences: list[str] | None = None,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.service_account = service_account
        self.namespace = namespace or session.namespace
        self.expiration_seconds = expiration_seconds
        self.audiences = audiences
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        #: How many tokens were requested so far.
        self.renewals = 0

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._renew()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Called after a 401: the next call requests a new token."""
        with self._lock:
            self._renew_at = 0.0

    def _renew(self) -> None:
        asked = self._clock()
        status = _token_request(self.session, self.service_account, self.namespace, self.expiration_seconds,
                                self.audiences)
        lifetime = float(self.expiration_seconds)
        expires = status.get("expirationTimestamp")
        if expires:
            until = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() - time.time()
            lifetime = max(0.0, min(lifetime, until))  # the server may shorten it
        self._token = status["token"]
        self._renew_at = asked + 0.8 * lifetime
        self.renewals += 1

    def __repr__(self) -> str:
        return f"<ServiceAccountTokenSource {self.namespace}/{self.service_account} renewals={self.renewals}>"

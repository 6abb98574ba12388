"""Who you are and service accounts: the steps of OpenShift's and Kubernetes' docs
(`oc whoami`, `oc create sa`, `oc policy add-role-to-user`, `oc create token`) as thin
helpers over the Session's requests."""

from __future__ import annotations

import re
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
    token: str = r.json()["status"]["token"]
    return token

"""CRUD on ConfigMaps with every patch type, error mapping and pagination: a conformance
suite, run against both the real kube-apiserver and FakeCluster."""

from __future__ import annotations

from typing import Any

import pytest

import kubesession as ks
from local_apiserver import LocalApiServer
from support.pki import ServingPki

CONFORMANCE = True


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_create_get_replace_delete(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    r = admin.post(base, json=cm("one", a="1"))
    assert r.status_code == 201
    got = admin.get(f"{base}/one").json()
    assert got["data"] == {"a": "1"}
    got["data"]["b"] = "2"
    r = admin.put(f"{base}/one", json=got)
    assert r.status_code == 200 and r.json()["data"] == {"a": "1", "b": "2"}
    r = admin.delete(f"{base}/one")
    assert r.status_code == 200
    with pytest.raises(ks.NotFound) as e:
        admin.get(f"{base}/one").raise_for_status()
    assert e.value.details == {"name": "one", "kind": "configmaps"}


@pytest.mark.parametrize(
    "content_type, body, expected",
    [
        ("merge", {"data": {"b": "2", "a": None}}, {"b": "2"}),
        ("json", [{"op": "add", "path": "/data/b", "value": "2"}, {"op": "remove", "path": "/data/a"}], {"b": "2"}),
        ("strategic", {"data": {"b": "2"}}, {"a": "1", "b": "2"}),
        ("application/merge-patch+json", {"data": {"c": "3"}}, {"a": "1", "c": "3"}),
    ],
)
def test_patch_types(admin: ks.Session, namespace: str, content_type: str, body: Any,
                     expected: dict[str, str]) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json=cm("p", a="1")).raise_for_status()
    r = admin.patch(f"{base}/p", json=body, content_type=content_type)
    r.raise_for_status()
    assert r.json()["data"] == expected


def test_patch_defaults_to_merge_patch(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    admin.post(base, json=cm("m", a="1")).raise_for_status()
    assert admin.patch(f"{base}/m", json={"data": {"a": None}}).json().get("data") in (None, {})


def test_server_side_apply_yaml(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    doc = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: {namespace}\ndata:\n  k: v\n"
    r = admin.patch(f"{base}/applied", data=doc, content_type="apply")
    assert r.status_code == 201, r.text
    managers = [m["manager"] for m in r.json()["metadata"]["managedFields"]]
    assert managers == ["kubesession"]
    r = admin.patch(f"{base}/applied", json={"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "applied"}, "data": {"k": "w"}},
                    content_type="apply", params={"fieldManager": "me", "force": True})
    assert r.status_code == 200 and r.json()["data"] == {"k": "w"}


def test_already_exists_and_conflict_differ(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    first = admin.post(base, json=cm("dup")).json()
    with pytest.raises(ks.AlreadyExists) as exists:
        admin.post(base, json=cm("dup")).raise_for_status()
    assert exists.value.status_code == 409 and exists.value.reason == "AlreadyExists"
    admin.patch(f"{base}/dup", json={"data": {"x": "1"}}).raise_for_status()
    stale = dict(first, data={"y": "2"})  # carries the old resourceVersion
    with pytest.raises(ks.Conflict) as e:
        admin.put(f"{base}/dup", json=stale).raise_for_status()
    assert e.value.status_code == 409 and e.value.reason == "Conflict"
    assert not isinstance(e.value, ks.AlreadyExists)


def test_invalid_object(admin: ks.Session, namespace: str) -> None:
    with pytest.raises(ks.Invalid) as e:
        admin.post(f"/api/v1/namespaces/{namespace}/configmaps", json=cm("Not_A_Valid_Name")).raise_for_status()
    assert e.value.status_code == 422
    assert e.value.details["causes"][0]["field"] == "metadata.name"


def test_malformed_body_is_bad_request(admin: ks.Session, namespace: str) -> None:
    r = admin.post(f"/api/v1/namespaces/{namespace}/configmaps", data=b"{not json",
                   headers={"Content-Type": "application/json"})
    with pytest.raises(ks.BadRequest):
        r.raise_for_status()


def test_pagination_with_limit_and_continue(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for i in range(7):
        admin.post(base, json=cm(f"page-{i}")).raise_for_status()
    names, token, pages = [], None, 0
    while True:
        body = admin.get(base, params={"limit": 3, "continue": token}).json()
        pages += 1
        names += [i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"].startswith("page-")]
        token = body["metadata"].get("continue")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] >= 1
    assert sorted(names) == [f"page-{i}" for i in range(7)]
    assert pages >= 3


def test_label_selector_param(admin: ks.Session, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name, tier in [("a", "web"), ("b", "db"), ("c", "web")]:
        body = cm(name)
        body["metadata"]["labels"] = {"tier": tier}
        admin.post(base, json=body).raise_for_status()
    items = admin.get(base, params={"labelSelector": "tier in (web)"}).json()["items"]
    assert sorted(i["metadata"]["name"] for i in items) == ["a", "c"]


def test_server_path_prefix_is_kept(apiserver: LocalApiServer, test_pki: ServingPki) -> None:
    from support.scripted_server import Handler, ScriptedServer, reply

    routes: dict[str, Handler] = {"/k8s/clusters/c-1/api/v1/namespaces": lambda h, r: reply(h, 200, b'{"items":[]}')}
    with ScriptedServer(cert=str(test_pki.server_cert), key=str(test_pki.server_key), routes=routes) as srv:
        s = ks.Session(srv.url + "/k8s/clusters/c-1", token="t", ca_file=str(test_pki.ca_file))
        assert s.get("/api/v1/namespaces").json() == {"items": []}
        assert srv.requests[-1].path == "/k8s/clusters/c-1/api/v1/namespaces"


def test_head_has_no_body_and_405_maps(admin: ks.Session) -> None:
    r = admin.head("/api/v1/namespaces/default")  # the API server does not serve HEAD on resources
    assert r.status_code == 405 and r.content == b""
    with pytest.raises(ks.MethodNotAllowed):
        r.raise_for_status()


def test_response_fields(admin: ks.Session) -> None:
    r = admin.get("/api/v1/namespaces/default")
    assert r.url.endswith("/api/v1/namespaces/default")
    assert r.reason == "OK"
    assert r.elapsed.total_seconds() > 0
    assert r.text.startswith("{") and r.content.startswith(b"{")
    assert repr(r) == "<Response [200]>"
    r.raise_for_status()

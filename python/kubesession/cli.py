"""``kubesession``: a secure ``curl`` / ``oc get --raw`` for the terminal.

    kubesession get /api/v1/namespaces                  # a table; -o json|yaml|name
    kubesession get pods -n default                     # a resource name works too
    kubesession watch /api/v1/namespaces/default/pods
    kubesession apply -f deployment.yaml                # server-side apply
    kubesession delete /api/v1/namespaces/default/configmaps/x
    kubesession whoami | token | create-token SA -n NS
    kubesession login https://api.example:6443 -u developer   # password from a prompt or stdin

``--kubeconfig``, ``--context``, ``-n`` and ``--insecure-skip-tls-verify`` go before or
after the subcommand. Errors print one line and exit 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from . import _core
from .display import rows_of, summarize, text_table
from .exceptions import ApiError, InsecureRequestWarning, KubeError
from .sessions import Session


def _common(suppress: bool) -> argparse.ArgumentParser:
    """The global options, accepted before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--kubeconfig", default=default, help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", default=default, help="kubeconfig context (default: current-context)")
    p.add_argument("-n", "--namespace", default=default, help="namespace (default: the context's)")
    p.add_argument("--insecure-skip-tls-verify", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="do not verify the server's certificate (insecure; warns every time)")
    return p


def parser() -> argparse.ArgumentParser:
    common = _common(suppress=True)
    top = argparse.ArgumentParser(prog="kubesession", description="A secure client for Kubernetes and OpenShift APIs.",
                                  parents=[_common(suppress=False)])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    get = sub.add_parser("get", parents=[common], help="GET a path or resource (a table, or -o json|yaml|name)")
    get.add_argument("path", help="an API path (/api/v1/...) or a resource name (pods, deployments.apps)")
    get.add_argument("name", nargs="?", help="with a resource name: one object's name")
    get.add_argument("-o", "--output", choices=["table", "json", "yaml", "name"], default=None)
    get.add_argument("--all-pages", action="store_true", help="follow continue tokens to the end of the list")
    get.add_argument("-l", "--selector", help="label selector")
    watch = sub.add_parser("watch", parents=[common], help="watch a collection (list first, then changes)")
    watch.add_argument("path")
    watch.add_argument("-o", "--output", choices=["table", "json"], default="table")
    watch.add_argument("-l", "--selector", help="label selector")
    watch.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    apply = sub.add_parser("apply", parents=[common], help="server-side apply of a YAML or JSON file (- for stdin)")
    apply.add_argument("-f", "--filename", required=True)
    apply.add_argument("--field-manager", default="kubesession")
    delete = sub.add_parser("delete", parents=[common], help="DELETE a path or resource")
    delete.add_argument("path")
    delete.add_argument("name", nargs="?")
    sub.add_parser("whoami", parents=[common], help="the current user")
    sub.add_parser("token", parents=[common], help="the bearer token in use (oc whoami --token)")
    create_token = sub.add_parser("create-token", parents=[common], help="a service account token (TokenRequest)")
    create_token.add_argument("service_account")
    create_token.add_argument("--duration", type=int, default=3600, help="lifetime in seconds")
    login = sub.add_parser("login", parents=[common], help="OpenShift OAuth login; saves the token in the kubeconfig")
    login.add_argument("server")
    login.add_argument("-u", "--username", required=True)
    login.add_argument("--certificate-authority", help="CA file of the server")
    return top


def session(args: argparse.Namespace) -> Session:
    kwargs: dict[str, Any] = {}
    if args.namespace:
        kwargs["namespace"] = args.namespace
    if args.insecure_skip_tls_verify:
        kwargs["verify"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)  # main() prints its own, every time
        return Session.from_kubeconfig(args.kubeconfig, context=args.context, **kwargs)


def resolve(s: Session, resource: str, namespace: str | None, name: str | None = None) -> str:
    """``pods`` / ``deployments.apps`` / ``Deployment`` -> its API path, through discovery."""
    if resource.startswith("/"):
        return resource if name is None else f"{resource.rstrip('/')}/{name}"
    wanted, _, group = resource.partition(".")
    prefixes = [] if group else ["/api/v1"]
    for g in s.get("/apis").json().get("groups", []):
        if not group or g["name"] == group:
            prefixes.append(f"/apis/{g['preferredVersion']['groupVersion']}")
    for prefix in prefixes:
        path = _path_in(s, prefix, wanted, namespace, name)
        if path:
            return path
    raise KubeError(f"the server has no resource type {resource!r}")


def _path_in(s: Session, prefix: str, wanted: str, namespace: str | None, name: str | None) -> str | None:
    """The path of resource ``wanted`` (plural, singular or kind) under a group version."""
    r = s.get(prefix)
    if r.status_code == 404:
        return None
    r.raise_for_status()
    for res in r.json().get("resources", []):
        if "/" in res["name"] or wanted.lower() not in (res["name"], res.get("singularName", ""), res["kind"].lower()):
            continue
        ns_part = f"/namespaces/{namespace or s.namespace}" if res["namespaced"] else ""
        path = f"{prefix}{ns_part}/{res['name']}"
        return path if name is None else f"{path}/{name}"
    return None


def _pages(s: Session, path: str, params: dict[str, Any], progress: bool) -> Iterator[dict[str, Any]]:
    params = dict(params, limit=500)
    fetched = 0
    while True:
        body = s.get(path, params=params)
        body.raise_for_status()
        page = body.json()
        fetched += len(page.get("items") or [])
        if progress:
            sys.stderr.write(f"\rfetched {fetched} items...")
            sys.stderr.flush()
        yield page
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            break
        params["continue"] = token
    if progress:
        sys.stderr.write("\r" + " " * 40 + "\r")


def _print_output(body: Any, output: str | None) -> None:
    if output == "json":
        print(json.dumps(body, indent=2))
    elif output == "yaml":
        print(_core.json_as_yaml(json.dumps(body)), end="")
    elif output == "name":
        found = rows_of(body)
        for row in found[1] if found else []:
            kind = row["kind"].lower() or "object"
            print(f"{kind}/{row['name']}")
    else:
        found = rows_of(body)
        if found is None:
            print(json.dumps(body, indent=2))
        elif found[1]:
            print(text_table(found[1]))
        else:
            print("No resources found.", file=sys.stderr)


def cmd_get(s: Session, args: argparse.Namespace) -> None:
    path = resolve(s, args.path, args.namespace, args.name)
    params = {"labelSelector": args.selector} if args.selector else {}
    if args.all_pages:
        pages = list(_pages(s, path, params, progress=sys.stderr.isatty()))
        body = dict(pages[0])
        body["items"] = [i for p in pages for i in p.get("items") or []]
        body.setdefault("metadata", {}).pop("continue", None)
    else:
        r = s.get(path, params=params)
        r.raise_for_status()
        if "json" not in (r.headers.get("content-type") or ""):
            sys.stdout.write(r.text)
            return
        body = r.json()
    _print_output(body, args.output)


def cmd_watch(s: Session, args: argparse.Namespace) -> None:
    path = resolve(s, args.path, args.namespace)
    with s.watch(path, label_selector=args.selector, timeout=args.timeout) as w:
        for ev in w:
            if args.output == "json":
                print(json.dumps({"type": ev.type, "object": ev.object}), flush=True)
            elif ev.type == "RESYNC":
                print(f"RESYNC   {len(ev.object.get('items') or [])} objects", flush=True)
            else:
                row = summarize(ev.object)
                where = f"{row['namespace']}/{row['name']}" if row["namespace"] else row["name"]
                print(f"{ev.type:<9}{row['kind'] or '-'} {where}  {row['status']}".rstrip(), flush=True)


def cmd_apply(s: Session, args: argparse.Namespace) -> None:
    text = sys.stdin.read() if args.filename == "-" else open(args.filename, encoding="utf-8").read()
    docs = json.loads(_core.yaml_documents_as_json(text))
    items: list[dict[str, Any]] = []
    for d in docs:
        if isinstance(d, dict) and d.get("kind", "").endswith("List") and isinstance(d.get("items"), list):
            items += d["items"]
        elif isinstance(d, dict):
            items.append(d)
    if not items:
        raise KubeError(f"{args.filename} holds no objects")
    for obj in items:
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        name = (obj.get("metadata") or {}).get("name")
        if not (kind and api_version and name):
            raise KubeError("every object needs apiVersion, kind and metadata.name")
        ns = (obj.get("metadata") or {}).get("namespace") or args.namespace
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        path = _path_in(s, prefix, kind, ns, name)
        if path is None:
            raise KubeError(f"the server does not serve {kind} in {api_version}")
        r = s.patch(path, json=obj, content_type="apply", params={"fieldManager": args.field_manager, "force": "true"})
        r.raise_for_status()
        print(f"{kind.lower()}/{name} {'created' if r.status_code == 201 else 'applied'}")


def cmd_delete(s: Session, args: argparse.Namespace) -> None:
    path = resolve(s, args.path, args.namespace, args.name)
    s.delete(path).raise_for_status()
    print(f"deleted {path}")


def cmd_login(args: argparse.Namespace) -> None:
    from .openshift import login

    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.username}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    kwargs: dict[str, Any] = {}
    if args.insecure_skip_tls_verify:
        kwargs["verify"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        s = login(args.server, args.username, password, ca_file=args.certificate_authority, **kwargs)
    context = s.save_kubeconfig(args.kubeconfig, context=args.context)
    print(f"Logged into {args.server} as {args.username}; context {context!r} saved.")


def run(args: argparse.Namespace) -> None:
    if args.command == "login":
        cmd_login(args)
        return
    s = session(args)
    if args.command == "get":
        cmd_get(s, args)
    elif args.command == "watch":
        cmd_watch(s, args)
    elif args.command == "apply":
        cmd_apply(s, args)
    elif args.command == "delete":
        cmd_delete(s, args)
    elif args.command == "whoami":
        print(s.whoami()["username"])
    elif args.command == "token":
        token = s.token
        if not token:
            raise KubeError(f"this context authenticates with {s._client.auth}, not a bearer token")
        print(token)
    elif args.command == "create-token":
        print(s.create_token(args.service_account, args.namespace, expiration_seconds=args.duration))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.insecure_skip_tls_verify:
        warnings.simplefilter("ignore", InsecureRequestWarning)  # said once here, in plain words
        print("warning: TLS verification is disabled (--insecure-skip-tls-verify): anyone on the network path "
              "can read and change this traffic, including your credentials", file=sys.stderr)
    try:
        run(args)
    except ApiError as e:
        print(f"error: {e.message or e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except (KubeError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

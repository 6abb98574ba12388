"""Readable summaries of Kubernetes objects: the tables that Responses and watch events
show in Jupyter (``_repr_html_``) and IPython (``_repr_pretty_``), and that the CLI prints.

Only name, namespace, age and a status are shown: never ``data`` (a Secret's values),
``spec`` or headers, so nothing secret is rendered.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Iterable, Mapping
from typing import Any

Row = dict[str, str]
COLUMNS = ("name", "namespace", "age", "status")


def age(timestamp: str | None, now: datetime.datetime | None = None) -> str:
    """``2026-12-04T10:00:00Z`` -> ``5m`` / ``3h`` / ``2d`` (as kubectl shows it)."""
    if not timestamp:
        return ""
    try:
        then = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = int(((now or datetime.datetime.now(datetime.timezone.utc)) - then).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def status(obj: Mapping[str, Any], kind: str = "") -> str:
    """A one-word status: a pod's or namespace's phase, Ready/Available conditions, a
    Deployment's ready replicas, a Secret's type; empty when the kind has none."""
    st = obj.get("status")
    if isinstance(st, Mapping):
        if isinstance(st.get("phase"), str):
            return str(st["phase"])
        spec = _mapping(obj.get("spec"))
        if "replicas" in spec:
            return f"{st.get('readyReplicas', 0)}/{spec['replicas']} ready"
        for cond in st.get("conditions") or ():
            if isinstance(cond, Mapping) and cond.get("type") in ("Ready", "Available", "Complete"):
                return f"{cond['type']}={cond.get('status', '')}"
    if (obj.get("kind") or kind) == "Secret" and isinstance(obj.get("type"), str):
        return str(obj["type"])
    return ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def summarize(obj: Mapping[str, Any], kind: str = "") -> Row:
    meta = _mapping(obj.get("metadata"))
    return {
        "kind": str(obj.get("kind") or kind),
        "name": str(meta.get("name", "")),
        "namespace": str(meta.get("namespace", "")),
        "age": age(meta.get("creationTimestamp")),
        "status": status(obj, kind),
    }


def rows_of(body: Any) -> tuple[str, list[Row]] | None:
    """(title, rows) for an object or a list, or None when the body is neither."""
    if not isinstance(body, Mapping):
        return None
    kind = str(body.get("kind") or "")
    if isinstance(body.get("items"), list):
        item_kind = kind[:-4] if kind.endswith("List") else ""
        items = [i for i in body["items"] if isinstance(i, Mapping)]
        return f"{kind or 'List'} ({len(items)} items)", [summarize(i, item_kind) for i in items]
    if kind == "Status":
        return None
    if isinstance(body.get("metadata"), Mapping):
        return kind, [summarize(body)]
    return None


def _columns(rows: list[Row], extra: Iterable[str] = ()) -> list[str]:
    cols = [*extra, "name"]
    if any(r.get("namespace") for r in rows):
        cols.append("namespace")
    cols += ["age", "status"]
    return cols


def text_table(rows: list[Row], extra: Iterable[str] = ()) -> str:
    cols = _columns(rows, extra)
    widths = {c: max([len(c)] + [len(r.get(c, "")) for r in rows]) for c in cols}
    lines = ["   ".join(c.upper().ljust(widths[c]) for c in cols).rstrip()]
    lines += ["   ".join(r.get(c, "").ljust(widths[c]) for c in cols).rstrip() for r in rows]
    return "\n".join(lines)


def html_table(title: str, rows: list[Row], extra: Iterable[str] = ()) -> str:
    cols = _columns(rows, extra)
    head = "".join(f"<th style='text-align:left'>{html.escape(c.upper())}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(r.get(c, ''))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    caption = f"<caption style='text-align:left'><b>{html.escape(title)}</b></caption>" if title else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _response_rows(r: Any) -> tuple[str, list[Row]] | None:
    if not getattr(r, "body_loaded", False) or not r.content:
        return None
    try:
        return rows_of(r.json())
    except ValueError:
        return None


def response_html(r: Any) -> str | None:
    """A Response as an HTML table (None: Jupyter then shows the repr)."""
    found = _response_rows(r)
    if found is None:
        return None
    title, rows = found
    return html_table(f"{title} · {r.status_code} {r.reason}", rows)


def event_html(ev: Any) -> str | None:
    row = summarize(ev.object) if isinstance(ev.object, Mapping) else None
    if row is None:
        return None
    row["type"] = ev.type
    return html_table("", [row], extra=("type", "kind"))


def pretty(obj: Any, p: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_`` for Responses and watch events."""
    if cycle:
        p.text(repr(obj))
        return
    if hasattr(obj, "status_code"):
        found = _response_rows(obj)
        if found is None:
            p.text(repr(obj))
            return
        title, rows = found
        p.text(f"<Response [{obj.status_code}]> {title}\n{text_table(rows)}")
        return
    if isinstance(getattr(obj, "object", None), Mapping):
        row = summarize(obj.object)
        row["type"] = obj.type
        p.text(text_table([row], extra=("type", "kind")))
        return
    p.text(repr(obj))

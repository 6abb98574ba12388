"""The examples stay runnable: the demo script and the notebook (executed with nbclient)
against FakeCluster; and the notebook shows tables, never a Secret's data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kubesession as ks

ROOT = Path(__file__).resolve().parent.parent


def test_demo_script_runs_against_fakecluster() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "embedded FakeCluster" in r.stdout and "DELETED ConfigMap default/demo" in r.stdout
    assert "SSLError" in r.stdout and r.stdout.rstrip().endswith("done.")


def test_notebook_executes_and_renders_tables_without_secret_data(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # the tests' HOME is not writable
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "examples" / "kubesession.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    pods = next(h for h in html if "PodList" in h)
    assert all(name in pods for name in ("web", "db", "cache")) and "Running" in pods
    secret = next(h for h in html if "db-password" in h)
    assert "Opaque" in secret and "aHVudGVyMg" not in secret and "hunter2" not in secret
    assert any("DELETED" in h and "cache" in h for h in html)


def test_pretty_and_html_reprs(tmp_path: Path) -> None:
    from IPython.lib.pretty import pretty  # type: ignore[import-not-found, unused-ignore]

    with ks.testing.FakeCluster() as cluster:
        s = cluster.session()
        s.post("/api/v1/namespaces/default/secrets", json={"metadata": {"name": "tok"}, "type": "kubernetes.io/service-account-token",
                                                           "data": {"token": "c2VjcmV0LXRva2Vu"}}).raise_for_status()
        listing = s.get("/api/v1/namespaces/default/secrets")
        text = pretty(listing)
        assert text.startswith("<Response [200]> SecretList (1 items)") and "tok" in text
        html = listing._repr_html_()
        assert html is not None and "c2VjcmV0LXRva2Vu" not in text and "c2VjcmV0LXRva2Vu" not in html
        assert "<script" not in html
        s.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "<b>x</b>"}})  # rejected: invalid name
        streamed = s.get("/api/v1/namespaces/default/secrets", stream=True)
        assert streamed._repr_html_() is None  # a stream is not read to render it
        assert streamed.json()["items"][0]["metadata"]["name"] == "tok"
        ev = next(s.watch("/api/v1/namespaces/default/secrets", timeout=5))
        event_html = ev._repr_html_()
        assert event_html is not None and "ADDED" in event_html and "c2VjcmV0LXRva2Vu" not in event_html
        assert "ADDED" in pretty(ev)


@pytest.mark.parametrize("text", ['<img src=x onerror="alert(1)">'])
def test_html_is_escaped(text: str) -> None:
    from kubesession.display import html_table

    assert "<img" not in html_table(text, [{"name": text, "age": "", "status": text}])

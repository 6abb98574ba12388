"""The two servers the conformance suite runs against, as one type: the real
kube-apiserver (scripts/local_apiserver.py) and FakeCluster behind the same attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import kubesession as ks


class Cluster(Protocol):
    """What the conformance tests use of a server."""

    server: str
    port: int
    ca_file: Path
    admin_token: str
    unbound_token: str  # authenticated, allowed nothing

    def compact(self, revision: int | str) -> None: ...


class FakeBackend:
    """A FakeCluster with the attributes of LocalApiServer that the conformance tests use."""

    def __init__(self, folder: Path) -> None:
        self.cluster = ks.testing.FakeCluster()
        self.server = self.cluster.server
        self.port = int(self.server.rsplit(":", 1)[1])
        self.ca_file = folder / "fakecluster-ca.crt"
        self.ca_file.write_text(self.cluster.ca_data)
        self.admin_token = self.cluster.token("admin")
        self.unbound_token = self.cluster.add_user("alice", allow=[])

    def compact(self, revision: int | str) -> None:
        self.cluster.compact()

    def stop(self) -> None:
        self.cluster.stop()

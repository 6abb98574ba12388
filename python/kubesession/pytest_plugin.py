"""kubesession's pytest plugin (registered through the ``pytest11`` entry point).

- ``kube_fake``: a Session (as admin) to a fresh :class:`kubesession.testing.FakeCluster`
  per test; ``kube_fake_cluster`` is that cluster (add users, inject faults).
- ``kube_cluster``: a Session to the cluster named by ``KUBESESSION_TEST_KUBECONFIG``;
  the test is skipped, saying so, when that variable is unset.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .sessions import Session
from .testing import FakeCluster


@pytest.fixture
def kube_fake_cluster() -> Iterator[FakeCluster]:
    """A fresh FakeCluster, stopped after the test."""
    with FakeCluster() as cluster:
        yield cluster


@pytest.fixture
def kube_fake(kube_fake_cluster: FakeCluster) -> Iterator[Session]:
    """A Session (as admin) to a fresh FakeCluster."""
    with kube_fake_cluster.session() as s:
        yield s


@pytest.fixture
def kube_cluster() -> Iterator[Session]:
    """A Session to the cluster of ``$KUBESESSION_TEST_KUBECONFIG`` (its current context)."""
    path = os.environ.get("KUBESESSION_TEST_KUBECONFIG")
    if not path:
        pytest.skip("KUBESESSION_TEST_KUBECONFIG is not set: no real cluster to test against")
    with Session.from_kubeconfig(path) as s:
        yield s

"""The tests' own CA (not the API server's), for the scripted servers."""

from __future__ import annotations

from pathlib import Path

from local_apiserver import Pki


class ServingPki(Pki):
    """A CA with a serving certificate for 127.0.0.1 and localhost."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, ca_name="kubesession-scripted-ca")
        self.server_cert, self.server_key = self.issue("server", "scripted", server=True)

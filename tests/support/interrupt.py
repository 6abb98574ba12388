"""Ctrl-C for a blocking call, in a child process: the call must end with KeyboardInterrupt."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from local_apiserver import LocalApiServer

TEMPLATE = """
import sys, kubesession as ks
s = ks.Session({server!r}, token={token!r}, ca_file={ca!r})
print("ready", flush=True)
try:
{call}
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(0)
sys.exit(3)
"""


def interrupted(apiserver: LocalApiServer, call: str, settle: float = 0.5) -> bool:
    """Runs `call` (Python using the Session `s`) in a child, sends SIGINT once it is under
    way, and tells whether it ended in KeyboardInterrupt with a clean exit."""
    script = TEMPLATE.format(server=apiserver.server, token=apiserver.admin_token, ca=str(apiserver.ca_file),
                             call=textwrap.indent(textwrap.dedent(call).strip(), "    "))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(settle)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    return proc.returncode == 0 and "interrupted" in out

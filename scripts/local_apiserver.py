#!/usr/bin/env python3
"""Start a real kube-apiserver (plus etcd and a controller-manager) on 127.0.0.1.

Used by the tests, the demo and the benchmarks. The binaries come from
``scripts/build-apiserver.sh`` (built once from Debian's kubernetes source and cached
outside the repo). Everything else — PKI, token file, data dirs — is made fresh in a
temporary folder and removed on stop.

    python scripts/local_apiserver.py          # start, print the kubeconfig path, wait for Ctrl-C

    from local_apiserver import LocalApiServer
    with LocalApiServer() as api:
        api.server, api.ca_file, api.admin_token, api.kubeconfig
"""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("KUBESESSION_APISERVER_CACHE", "/var/cache/kubesession/k8s-1.20.2"))
BIN = CACHE / "bin"

# Token users of the token-auth file: token -> (user, groups).
TOKENS = {
    "admin-token-0123456789": ("admin", ["system:masters"]),
    "alice-token-0123456789": ("alice", []),  # authenticated, bound to nothing: 403
}
ADMIN_TOKEN = "admin-token-0123456789"
UNBOUND_TOKEN = "alice-token-0123456789"


class ApiServerError(RuntimeError):
    pass


def ensure_binaries() -> None:
    if (BIN / "kube-apiserver").exists() and (BIN / "kube-controller-manager").exists():
        return
    subprocess.run(["bash", str(HERE / "build-apiserver.sh")], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


class Pki:
    """A CA and the certificates the tests need (all v3, SANs, EKUs; rustls-clean)."""

    def __init__(self, folder: Path, ca_name: str = "kubesession-test-ca"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(ca_name))
            .issuer_name(_name(ca_name))
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_file = folder / "ca.crt"
        self.ca_file.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        _write_key(folder / "ca.key", self.ca_key)

    def issue(self, stem: str, cn: str, *, org: str | None = None, server: bool = False,
              sans: list[str] | None = None, days: float = 2, expired: bool = False) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=days)
        if expired:
            start, end = now - datetime.timedelta(days=3), now - datetime.timedelta(days=1)
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, org))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        )
        if server:
            import ipaddress

            names: list[x509.GeneralName] = []
            for san in sans or ["127.0.0.1", "localhost"]:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(san)))
                except ValueError:
                    names.append(x509.DNSName(san))
            b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = b.sign(self.ca_key, hashes.SHA256())
        cert_path, key_path = self.folder / f"{stem}.crt", self.folder / f"{stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, key)
        return cert_path, key_path


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ApiServerError(f"{what} exited with {proc.returncode}; log {log}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ApiServerError(f"{what} did not listen on port {port} within {timeout} s; log {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class LocalApiServer:
    """etcd + kube-apiserver (+ kube-controller-manager) on 127.0.0.1, with fresh PKI."""

    def __init__(self, controller_manager: bool = True, workdir: str | None = None):
        self.controller_manager = controller_manager
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kubesession-apiserver-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.admin_token = ADMIN_TOKEN
        self.unbound_token = UNBOUND_TOKEN

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> "LocalApiServer":
        ensure_binaries()
        if not shutil.which("etcd"):
            raise ApiServerError("etcd is not installed (apt-get install etcd-server)")
        w = self.workdir
        pki = self.pki = Pki(w / "pki")
        self.ca_file = pki.ca_file
        self.serving_cert, self.serving_key = pki.issue("apiserver", "kube-apiserver", server=True)
        self.admin_cert, self.admin_key = pki.issue("admin", "admin", org="system:masters")
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_key_file = pki.folder / "sa.key"
        _write_key(self.sa_key_file, sa_key)
        self.sa_pub_file = pki.folder / "sa.pub"
        self.sa_pub_file.write_bytes(
            sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        tokens = w / "tokens.csv"
        tokens.write_text(
            "".join(f'{tok},{user},uid-{user},"{",".join(groups)}"\n' for tok, (user, groups) in TOKENS.items())
        )
        tokens.chmod(0o600)

        etcd_port = free_port()
        etcd_log = w / "etcd.log"
        etcd = subprocess.Popen(
            ["etcd", "--data-dir", str(w / "etcd"), "--name", "kubesession-test",
             "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
             "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
             "--listen-peer-urls", f"http://127.0.0.1:{etcd_port + 1}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_port + 1}",
             "--initial-cluster", f"kubesession-test=http://127.0.0.1:{etcd_port + 1}",
             "--listen-metrics-urls", "", "--log-level", "warn"],
            stdout=open(etcd_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs.append(etcd)
        _wait_port(etcd_port, etcd, "etcd", etcd_log)

        self.etcd_url = f"http://127.0.0.1:{etcd_port}"
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        api_log = w / "apiserver.log"
        api = subprocess.Popen(
            [str(BIN / "kube-apiserver"),
             f"--etcd-servers=http://127.0.0.1:{etcd_port}",
             "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
             f"--secure-port={self.port}",
             f"--tls-cert-file={self.serving_cert}", f"--tls-private-key-file={self.serving_key}",
             f"--client-ca-file={self.ca_file}", f"--token-auth-file={tokens}",
             "--anonymous-auth=false",
             f"--service-account-key-file={self.sa_pub_file}",
             f"--service-account-signing-key-file={self.sa_key_file}",
             "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
             "--api-audiences=https://kubernetes.default.svc.cluster.local",
             "--authorization-mode=RBAC", "--service-cluster-ip-range=10.0.0.0/24",
             f"--cert-dir={w / 'certs'}", "--profiling=false", "--watch-cache=true",
             # PodTemplates bypass the watch cache, so that compact() makes their old
             # resourceVersions expire at once (410 Expired), as on a busy cluster.
             "--watch-cache-sizes=podtemplates#0",
             "--v=0"],
            stdout=open(api_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs.append(api)
        self._wait_ready(api, api_log)
        self.kubeconfig = self.write_kubeconfig(w / "kubeconfig", token=self.admin_token)
        self.admin_cert_kubeconfig = self.write_kubeconfig(w / "kubeconfig-cert", client_cert=True)
        if self.controller_manager:
            cm_log = w / "controller-manager.log"
            cm = subprocess.Popen(
                [str(BIN / "kube-controller-manager"), f"--kubeconfig={self.admin_cert_kubeconfig}",
                 "--controllers=namespace,serviceaccount,serviceaccount-token,clusterrole-aggregation,garbagecollector",
                 f"--service-account-private-key-file={self.sa_key_file}", f"--root-ca-file={self.ca_file}",
                 "--use-service-account-credentials=false", "--leader-elect=false",
                 "--secure-port=0", "--port=0", "--bind-address=127.0.0.1"],
                stdout=open(cm_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
            )
            self.procs.append(cm)
        return self

    def _wait_ready(self, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
        """/readyz answers 200 before the bootstrap controller has created the system
        namespaces: wait for those too, so that no test races them."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + timeout
        last = ""
        pending = ["/readyz", "/api/v1/namespaces/default", "/api/v1/namespaces/kube-system",
                   "/api/v1/namespaces/kube-public"]
        while pending and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ApiServerError(f"kube-apiserver exited with {proc.returncode}; log {log}:\n{_tail(log)}")
            req = urllib.request.Request(self.server + pending[0], headers={"Authorization": f"Bearer {self.admin_token}"})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=2) as r:
                    if r.status == 200:
                        pending.pop(0)
                        continue
            except Exception as e:  # not up yet
                last = f"{pending[0]}: {e}"
            time.sleep(0.1)
        if pending:
            raise ApiServerError(f"kube-apiserver not ready after {timeout} s ({last}); log {log}:\n{_tail(log)}")

    def write_kubeconfig(self, path: Path, *, token: str | None = None, client_cert: bool = False,
                         namespace: str | None = None, context: str = "local") -> Path:
        user: dict[str, str] = {}
        if token:
            user["token"] = token
        if client_cert:
            user["client-certificate"] = str(self.admin_cert)
            user["client-key"] = str(self.admin_key)
        ctx = {"cluster": "local", "user": "local-user"}
        if namespace:
            ctx["namespace"] = namespace
        import json

        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "local", "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)}}],
            "users": [{"name": "local-user", "user": user}],
            "contexts": [{"name": context, "context": ctx}],
        }
        path.write_text(json.dumps(doc, indent=1))  # JSON is valid YAML
        path.chmod(0o600)
        return path

    def compact(self, revision: int | str) -> None:
        """Compacts etcd up to ``revision`` (a resourceVersion): watches of resources that
        bypass the watch cache (podtemplates) from older versions then get 410 Expired."""
        import json

        req = urllib.request.Request(f"{self.etcd_url}/v3/kv/compaction", method="POST",
                                     data=json.dumps({"revision": str(revision), "physical": True}).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "LocalApiServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    with LocalApiServer() as api:
        print(f"kube-apiserver ready at {api.server}")
        print(f"export KUBECONFIG={api.kubeconfig}")
        sys.stdout.flush()
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass

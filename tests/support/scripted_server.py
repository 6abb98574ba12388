"""A small HTTPS (or HTTP) server for the behaviours a healthy API server never shows:
429/503 with Retry-After, redirects, hanging, truncated or oversized streams.

Each test registers handlers by path; every request is recorded (method, path, headers)
so tests can check what the client sent.
"""

from __future__ import annotations

import http.server
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


# What a handler returns is ignored (so a lambda may return anything).
Handler = Callable[["http.server.BaseHTTPRequestHandler", Recorded], object]


@dataclass
class ScriptedServer:
    cert: str | None = None
    key: str | None = None
    host: str = "127.0.0.1"
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def start(self) -> "ScriptedServer":
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.requests.append(rec)
                path = self.path.split("?")[0]
                route = outer.routes.get(path)
                if route is None:  # "/prefix/*" routes match any path under the prefix
                    route = next((r for k, r in outer.routes.items() if k.endswith("*") and path.startswith(k[:-1])),
                                 None)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                route(self, rec)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server((self.host, 0), H)
        if self.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert, self.key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        scheme = "https" if self.cert else "http"
        self.url = f"{scheme}://{self.host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def reply(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"",
          headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)

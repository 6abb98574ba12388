"""A loopback TCP proxy whose connections tests can cut, pause or freeze, to see that a
watch survives what networks do: resets, outages and silently dead connections."""

from __future__ import annotations

import random
import select
import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._conns: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.paused = threading.Event()   # new connections are closed at once
        self.frozen = threading.Event()   # connections stay open but nothing is forwarded
        self.accepted = 0
        self.cuts = 0

    def __enter__(self) -> "TcpProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._sock.close()
        self.cut_all()

    def cut_all(self) -> None:
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for a, b in conns:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        if conns:
            self.cuts += 1

    def start_random_cuts(self, low: float, high: float, seed: int = 7) -> threading.Event:
        """Cuts every connection at random intervals until the returned event is set."""
        stop = threading.Event()
        rng = random.Random(seed)

        def loop() -> None:
            while not stop.wait(rng.uniform(low, high)):
                self.cut_all()

        threading.Thread(target=loop, daemon=True).start()
        return stop

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if self.paused.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.accepted += 1
            with self._lock:
                self._conns.add((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        socks = [client, upstream]
        try:
            while True:
                if self.frozen.is_set():
                    self.frozen_wait()
                    continue
                readable, _, _ = select.select(socks, [], [], 0.05)
                if self.frozen.is_set():
                    continue  # leave the data unread: nothing gets through while frozen
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns.discard((client, upstream))
            for s in socks:
                try:
                    s.close()
                except OSError:
                    pass

    def frozen_wait(self) -> None:
        threading.Event().wait(0.05)

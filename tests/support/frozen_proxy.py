"""A TCP proxy on loopback that can stop forwarding without closing anything: to the client, a database
server that froze (a hung host, a partition) while its connections stay open and its kernel keeps ACKing.

The tests freeze this proxy, never the PostgreSQL server other tests share. It forwards to one upstream
address, holds whatever arrives while frozen and delivers it on `resume()`, and stops by itself after
`lifetime_s` so a failed test cannot leave it running."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

POLL_S = 0.05


class FrozenProxy:
    def __init__(self, *, upstream: tuple[str, int], lifetime_s: float = 120.0):
        self._upstream = upstream
        self._deadline = time.monotonic() + lifetime_s
        self._flowing = threading.Event()
        self._flowing.set()
        self._freeze_on: bytes | None = None
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_S)
        self.port: int = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True, name="frozen-proxy-accept")]
        self._threads[0].start()

    def freeze(self) -> None:
        """Hold every byte in both directions from now on, on every connection, old and new."""
        self._flowing.clear()

    def freeze_on(self, marker: bytes) -> None:
        """Freeze the moment a client sends bytes containing `marker`, holding those bytes too."""
        self._freeze_on = marker

    def resume(self) -> None:
        self._freeze_on = None
        self._flowing.set()

    @property
    def frozen(self) -> bool:
        return not self._flowing.is_set()

    def close(self) -> None:
        self._stopped.set()
        self._flowing.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in [self._listener, *sockets]:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FrozenProxy:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _alive(self) -> bool:
        return not self._stopped.is_set() and time.monotonic() < self._deadline

    def _accept(self) -> None:
        while self._alive():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self._upstream, timeout=5)
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst, watch in ((client, upstream, True), (upstream, client, False)):
                thread = threading.Thread(target=self._pump, args=(src, dst, watch), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _hold_while_frozen(self) -> bool:
        """False when the proxy stops while holding."""
        while not self._flowing.wait(POLL_S):
            if not self._alive():
                return False
        return self._alive()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while self._alive():
                readable, _, _ = select.select([src], [], [], POLL_S)
                if not readable:
                    continue
                data = src.recv(65536)
                marker = self._freeze_on
                if watch and marker is not None and marker in data:
                    self._freeze_on = None
                    self._flowing.clear()
                if not self._hold_while_frozen() or not data:
                    break  # an end of stream is held too: a frozen server notices a closed client only later
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

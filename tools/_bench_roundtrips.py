"""Round trips between a client and PostgreSQL, counted on the wire.

A TCP relay on 127.0.0.1 stands between the client and the server and counts the
client's turns: each time the client sends after the server has answered, the client
had waited for that answer. That is a round trip, whatever the driver does to avoid
them (pipeline mode, ``executemany``, multi-row statements). ``make bench`` counts a
whole-map commit's, a claim's and a renewal's (section ``sqlite``).
"""

from __future__ import annotations

import selectors
import socket
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class CountingRelay:
    """Relays connections to ``port`` on 127.0.0.1, counting round trips."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="relay", daemon=True)

    def __enter__(self) -> CountingRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self.listener.close()
        self._thread.join(timeout=5)

    def url(self, url: str) -> str:
        """``url`` (a server's, on 127.0.0.1) through the relay."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        answered = True  # the client's first bytes are a turn of their own
        try:
            while True:
                for key, _ in selector.select():
                    source: Any = key.fileobj
                    data = source.recv(1 << 16)
                    if not data:
                        return
                    if source is client:
                        if answered:
                            with self._lock:
                                self.round_trips += 1
                        answered = False
                    else:
                        answered = True
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            server.close()

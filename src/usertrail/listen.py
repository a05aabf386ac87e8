"""The listening socket, bound before anything is printed: a taken port is said plainly,
with a free one to use, instead of after a banner full of credentials."""

from __future__ import annotations

import errno
import socket

PORTS_TO_TRY = 50  # how far past a taken port to look for a free one to suggest


class PortTaken(Exception):
    def __init__(self, host: str, port: int, free: int | None) -> None:
        super().__init__(f"{host}:{port} is already in use")
        self.host = host
        self.port = port
        self.free = free


def bind(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0: any free one), for uvicorn to serve on."""
    try:
        return _listen(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise PortTaken(host, port, free_port_after(host, port)) from None


def free_port_after(host: str, port: int) -> int | None:
    for candidate in range(port + 1, min(port + 1 + PORTS_TO_TRY, 65536)):
        try:
            _listen(host, candidate).close()
        except OSError:
            continue
        return candidate
    return None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # SO_REUSEADDR (as uvicorn sets it): a restart may bind while old connections linger.
    return socket.create_server((host, port), family=family, backlog=2048)

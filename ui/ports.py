"""Whether a port is free before a server starts (the page and the API say so at once, before any model loads)."""

from __future__ import annotations

import socket

from rag.errors import NewsdeskError


def check_port_free(host: str, port: int, retry_hint: str) -> None:
    """Raise ``NewsdeskError`` naming ``retry_hint`` (a command with another port) when ``host:port`` is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise NewsdeskError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Pick another port: {retry_hint}."
            ) from exc

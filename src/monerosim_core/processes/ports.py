"""Free loopback ports for the processes of a local run."""

from __future__ import annotations

import contextlib
import socket
import threading

LOOPBACK = "127.0.0.1"

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_tcp_ports(n: int, host: str = LOOPBACK) -> list[int]:
    """``n`` distinct TCP ports free on ``host`` right now.

    All ``n`` sockets are held open together so the kernel cannot return one port
    twice, and ports already handed out by this process are skipped. Another
    program can still take a port before the daemon binds it; the daemon then
    exits with "Failed to bind", which the supervisor's ``wait_ready`` reports.
    """
    ports: list[int] = []
    with contextlib.ExitStack() as stack, _handed_out_lock:
        while len(ports) < n:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
            if port not in _handed_out:
                ports.append(port)
                _handed_out.add(port)
    return ports

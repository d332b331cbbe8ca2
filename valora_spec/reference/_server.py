"""Serving the app with uvicorn: in a background thread (tests) or in the foreground (CLI)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY on accepted connections, without
    # which a response written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _config(app: Any) -> uvicorn.Config:
    # Quiet: the CLI's stdout carries exactly one line, the base URL. Lifespan "auto": a wrapping
    # middleware that does not pass lifespan events on must not stop the server from starting.
    # A bounded graceful shutdown: a stopped harness waits for its embedded reference to exit.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto",
                          timeout_graceful_shutdown=2)


class ForegroundServer(uvicorn.Server):
    """uvicorn that reports readiness and exits cleanly (status 0) on SIGTERM or SIGINT.

    uvicorn re-raises a captured signal after its graceful shutdown, which would end the
    process with the signal's status; here the signal only asks for that shutdown.
    """

    def __init__(self, app: Any, on_ready: Callable[[], None]) -> None:
        super().__init__(_config(app))
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` over real HTTP from a daemon thread; yields the base URL, stops on exit."""
    sock = bind(host, port)
    server = uvicorn.Server(_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server failed to start")
            time.sleep(0.01)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

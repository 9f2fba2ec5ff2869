"""A real uvicorn server on a loopback port, for tests that exercise the whole HTTP stack."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn
from fastapi import FastAPI


@contextlib.contextmanager
def running_server(app: FastAPI, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields its base URL (``http://127.0.0.1:<port>``).

    The app's lifespan runs: startup before the URL is yielded, shutdown (closing the prediction
    sink) before the block is left.

    Raises:
        RuntimeError: the server did not answer ``/health`` within ``startup_timeout`` seconds, or
            it did not stop within that time after the block.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, thread, startup_timeout)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(startup_timeout)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"The test server at {base_url} did not stop.")


def _wait_until_healthy(base_url: str, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError(f"The test server at {base_url} stopped while starting.")
            with contextlib.suppress(httpx.TransportError):
                if client.get("/health").status_code == 200:
                    return
            time.sleep(0.02)
    raise RuntimeError(f"The test server at {base_url} did not answer /health in {timeout} s.")

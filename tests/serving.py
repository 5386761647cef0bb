"""A real `clause serve` on 127.0.0.1 for the server and browser tests: uvicorn in a thread, a free port."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import uvicorn

from cli.serve.app import create_app
from cli.serve.source import Source
from compiler.policy import BUNDLED
from compiler.cache import load_policy_cached


@contextmanager
def served(path: Path, token: str | None = None, redact: bool = False, at: datetime | None = None) -> Iterator[tuple[str, Source]]:
    """(base URL, source) while a server runs; stopped on exit."""
    source = Source(path, load_policy_cached(BUNDLED), at, redact)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(source, token), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("clause serve did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", source
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()

"""Local stand-ins for what is outside the machine (LLM APIs, GitHub, a marketplace): an HTTP server on 127.0.0.1."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def local_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on a free loopback port (not yet serving)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False  # a handler told to stall (timeout tests) must not hold up the shutdown
    return server


@contextmanager
def serving(server: ThreadingHTTPServer):
    """Serve in a background thread for the duration of the block, then shut down and free the port."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

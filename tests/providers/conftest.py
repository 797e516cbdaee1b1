"""Fixtures for providers and models: a real fake upstream on 127.0.0.1, and factories for providers/models."""

import json
import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from providers import services
from tests.fake_http import local_server, serving
from providers.models import MODEL_KINDS

OK_ANSWERS = {
    ("POST", "/chat/completions"): {"id": "c1", "object": "chat.completion",
                                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}}]},
    ("POST", "/embeddings"): {"object": "list", "data": [{"index": 0, "embedding": [0.1, 0.2, 0.3]}]},
    ("POST", "/rerank"): {"results": [{"index": 0, "relevance_score": 0.9}, {"index": 1, "relevance_score": 0.1}]},
    ("GET", "/models"): {"object": "list", "data": [
        {"id": "gpt-4o", "object": "model"},
        {"id": "text-embedding-3-small", "object": "model"},
        {"id": "bge-reranker-v2-m3", "object": "model"},
    ]},
    ("POST", "/v1/messages"): {"id": "m1", "type": "message", "role": "assistant",
                               "content": [{"type": "text", "text": "Hi"}]},
    ("GET", "/v1/models"): {"data": [{"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5"}]},
    ("POST", "/api/chat"): {"model": "llama3", "message": {"role": "assistant", "content": "Hi"}, "done": True},
    ("POST", "/api/embed"): {"model": "nomic-embed-text", "embeddings": [[0.1, 0.2]]},
    ("GET", "/api/tags"): {"models": [{"name": "llama3:latest", "model": "llama3:latest"},
                                      {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest"}]},
}


class FakeUpstream:
    """An HTTP server that records what it received and answers like an LLM API (or fails, when told to)."""

    def __init__(self):
        self.received: list[dict] = []
        self.overrides: dict[str, dict] = {}  # path -> {"status", "json" | "body", "content_type", "delay"}
        self.refused_keys: dict[str, int] = {}  # key -> status answered when a request carries it
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                upstream.received.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": body}
                )
                key = self.headers.get("x-api-key") or (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if key in upstream.refused_keys:
                    status = upstream.refused_keys[key]
                    return self._send(status, json.dumps({"error": {"message": f"key refused ({status})"}}).encode())
                override = upstream.overrides.get(self.path)
                if override:
                    time.sleep(override.get("delay", 0))
                    if "json" in override:
                        content = json.dumps(override["json"]).encode()
                    else:
                        content = override.get("body", b"")
                    return self._send(override.get("status", 200), content, override.get("content_type", "application/json"),
                                      override.get("headers"))
                answer = OK_ANSWERS.get((self.command, self.path))
                if answer is None:
                    return self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}).encode())
                return self._send(200, json.dumps(answer).encode())

            def _send(self, status, content, content_type="application/json", headers=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = _handle

        self.server = local_server(Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, status: int = 200, **kwargs) -> None:
        self.overrides[path] = {"status": status, **kwargs}

    def refuse(self, key: str, status: int = 401) -> None:
        self.refused_keys[key] = status

    @property
    def last(self) -> dict:
        assert self.received, "the upstream received nothing"
        return self.received[-1]


@pytest.fixture
def upstream():
    fake = FakeUpstream()
    with serving(fake.server):
        yield fake


@pytest.fixture
def closed_port_url():
    """A URL where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def make_provider(db):
    def _make(name="Fake", requester="openai-chat-completions", base_url="https://api.example.com/v1",
              api_keys=("sk-test-key-0001",), timeout=None):
        return services.create_provider(
            name=name, requester=requester, base_url=base_url, api_keys=list(api_keys), timeout=timeout
        )

    return _make


@pytest.fixture
def make_model(db):
    def _make(kind_key, provider, name="gpt-4o", **fields):
        return services.create_model(MODEL_KINDS[kind_key], name=name, provider=provider, **fields)

    return _make

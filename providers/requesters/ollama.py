"""Ollama's native protocol: /api/chat (non-streaming), /api/embed, /api/tags. Keys are optional (a proxy may want one)."""

from .transport import Target, expect, request_json

PROBE_MESSAGE = "Hello"


def _headers(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def chat(target: Target, key: str | None) -> None:
    body = {
        **target.extra_args,
        "model": target.model,
        "messages": [{"role": "user", "content": PROBE_MESSAGE}],
        "stream": False,
    }
    data = request_json("POST", target, "/api/chat", headers=_headers(key), body=body)
    expect(isinstance(data, dict) and isinstance(data.get("message"), dict), "a chat answer (no `message`)")


def embed(target: Target, key: str | None) -> None:
    body = {**target.extra_args, "model": target.model, "input": [PROBE_MESSAGE]}
    data = request_json("POST", target, "/api/embed", headers=_headers(key), body=body)
    expect(isinstance(data, dict) and isinstance(data.get("embeddings"), list), "an embedding list (no `embeddings`)")


def list_models(target: Target, key: str | None) -> list[dict]:
    data = request_json("GET", target, "/api/tags", headers=_headers(key))
    entries = data.get("models") if isinstance(data, dict) else None
    expect(isinstance(entries, list), "a model list (no `models`)")
    return [
        {"id": str(e.get("model") or e["name"]), "name": str(e["name"])}
        for e in entries
        if isinstance(e, dict) and e.get("name")
    ]

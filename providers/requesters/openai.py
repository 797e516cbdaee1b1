"""OpenAI-compatible wire protocol: chat completions, embeddings, an OpenAI/Jina/Cohere-style rerank, model list."""

from .transport import Target, expect, request_json

PROBE_MESSAGE = "Hello"


def _headers(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _with_extra(target: Target, body: dict) -> dict:
    # extra_args tune the request (temperature, …) but never replace what the probe itself needs.
    # A probe reads one JSON answer, so a `stream` flag in extra_args is dropped.
    extra = {k: v for k, v in target.extra_args.items() if k != "stream"}
    return {**extra, **body}


def chat(target: Target, key: str | None) -> None:
    body = _with_extra(target, {"model": target.model, "messages": [{"role": "user", "content": PROBE_MESSAGE}]})
    data = request_json("POST", target, "/chat/completions", headers=_headers(key), body=body)
    expect(isinstance(data, dict) and isinstance(data.get("choices"), list), "a chat completion (no `choices`)")


def embed(target: Target, key: str | None) -> None:
    body = _with_extra(target, {"model": target.model, "input": [PROBE_MESSAGE]})
    data = request_json("POST", target, "/embeddings", headers=_headers(key), body=body)
    expect(isinstance(data, dict) and isinstance(data.get("data"), list) and data["data"], "an embedding list (no `data`)")


def rerank(target: Target, key: str | None) -> None:
    body = _with_extra(
        target, {"model": target.model, "query": "What is LangBot?", "documents": ["LangBot is a bot platform.", "Hi"]}
    )
    data = request_json("POST", target, "/rerank", headers=_headers(key), body=body)
    # Jina/Cohere/vLLM answer `results`, Voyage answers `data`.
    expect(isinstance(data, dict) and isinstance(data.get("results", data.get("data")), list), "a rerank result")


def list_models(target: Target, key: str | None) -> list[dict]:
    data = request_json("GET", target, "/models", headers=_headers(key))
    entries = data.get("data") if isinstance(data, dict) else data
    expect(isinstance(entries, list), "a model list (no `data`)")
    models = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id"):
            models.append({"id": str(entry["id"]), "name": str(entry.get("name") or entry["id"])})
    return models

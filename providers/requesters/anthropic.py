"""Anthropic Messages protocol: `x-api-key` and a pinned `anthropic-version`, paths under /v1."""

from .transport import Target, expect, request_json

ANTHROPIC_VERSION = "2023-06-01"
PROBE_MESSAGE = "Hello"
PROBE_MAX_TOKENS = 16  # required by the API; kept small so a test costs next to nothing


def _headers(key: str | None) -> dict:
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if key:
        headers["x-api-key"] = key
    return headers


def _path(target: Target, path: str) -> str:
    # The documented base URL is the host alone; a base URL that already ends in /v1 must not get a second one.
    return path if target.base_url.rstrip("/").endswith("/v1") else f"/v1{path}"


def chat(target: Target, key: str | None) -> None:
    body = {
        "max_tokens": PROBE_MAX_TOKENS,
        **{k: v for k, v in target.extra_args.items() if k != "stream"},
        "model": target.model,
        "messages": [{"role": "user", "content": PROBE_MESSAGE}],
    }
    data = request_json("POST", target, _path(target, "/messages"), headers=_headers(key), body=body)
    expect(isinstance(data, dict) and isinstance(data.get("content"), list), "a message (no `content`)")


def list_models(target: Target, key: str | None) -> list[dict]:
    data = request_json("GET", target, _path(target, "/models"), headers=_headers(key))
    entries = data.get("data") if isinstance(data, dict) else None
    expect(isinstance(entries, list), "a model list (no `data`)")
    return [
        {"id": str(e["id"]), "name": str(e.get("display_name") or e["id"])}
        for e in entries
        if isinstance(e, dict) and e.get("id")
    ]

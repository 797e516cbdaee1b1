"""Model tests and model scans against a real fake upstream on 127.0.0.1: what the upstream received, and how
every failure (refused key, 5xx, refused connection, timeout, non-JSON) reaches the caller as a clear 400."""

import json

import pytest

BASE = "/api/v1/provider/models"
KEY = "sk-live-0123456789abcdefghij"
KEY2 = "sk-live-second-key-9876543210"


def _post(api_client, path, body, headers):
    return api_client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def _ok_latency(response) -> int:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 0 and set(body["data"]) == {"latency_ms"}
    assert isinstance(body["data"]["latency_ms"], int) and body["data"]["latency_ms"] >= 0
    return body["data"]["latency_ms"]


def _failure(response) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == -1 and {"code", "msg"} <= set(body)
    return body["msg"]


@pytest.fixture
def saved(make_provider, make_model, upstream):
    """saved(kind, requester, **provider fields) -> a model on a provider pointing at the fake upstream."""

    def _saved(kind="llm", requester="openai-chat-completions", model_name="gpt-4o", extra_args=None, **provider_fields):
        provider_fields.setdefault("base_url", upstream.base_url)
        provider_fields.setdefault("api_keys", [KEY])
        provider = make_provider(requester=requester, **provider_fields)
        return make_model(kind, provider, model_name, extra_args=extra_args or {})

    return _saved


# --- what each adapter sends -----------------------------------------------------------------------------------------


def test_openai_chat(api_client, admin_headers, upstream, saved):
    model = saved("llm", extra_args={"temperature": 0.1, "stream": True, "model": "ignored"})
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    request = upstream.last
    assert (request["method"], request["path"]) == ("POST", "/chat/completions")
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["json"]["model"] == "gpt-4o"
    assert request["json"]["messages"] == [{"role": "user", "content": "Hello"}]
    assert request["json"]["temperature"] == 0.1 and "stream" not in request["json"]


def test_openai_embeddings(api_client, admin_headers, upstream, saved):
    model = saved("embedding", requester="openai-embeddings", model_name="text-embedding-3-small")
    _ok_latency(_post(api_client, f"{BASE}/embedding/{model.pk}/test", {}, admin_headers))
    request = upstream.last
    assert (request["method"], request["path"]) == ("POST", "/embeddings")
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["json"] == {"model": "text-embedding-3-small", "input": ["Hello"]}


def test_rerank(api_client, admin_headers, upstream, saved):
    model = saved("rerank", requester="jina", model_name="jina-reranker-v2-base-multilingual")
    _ok_latency(_post(api_client, f"{BASE}/rerank/{model.pk}/test", {}, admin_headers))
    request = upstream.last
    assert (request["method"], request["path"]) == ("POST", "/rerank")
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["json"]["model"] == "jina-reranker-v2-base-multilingual"
    assert isinstance(request["json"]["query"], str) and request["json"]["query"]
    assert isinstance(request["json"]["documents"], list) and all(isinstance(d, str) for d in request["json"]["documents"])


def test_anthropic_messages(api_client, admin_headers, upstream, saved):
    model = saved("llm", requester="anthropic-messages", model_name="claude-sonnet-4-5")
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    request = upstream.last
    assert (request["method"], request["path"]) == ("POST", "/v1/messages")
    assert request["headers"]["x-api-key"] == KEY
    assert request["headers"]["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in request["headers"]
    assert request["json"]["model"] == "claude-sonnet-4-5"
    assert request["json"]["messages"] == [{"role": "user", "content": "Hello"}]
    assert isinstance(request["json"]["max_tokens"], int) and request["json"]["max_tokens"] > 0


def test_anthropic_base_url_ending_in_v1_gets_no_second_v1(api_client, admin_headers, upstream, saved):
    upstream.answer("/v1/messages", 200, json={"content": []})
    model = saved("llm", requester="anthropic-messages", model_name="claude", base_url=f"{upstream.base_url}/v1")
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert upstream.last["path"] == "/v1/messages"


def test_ollama_chat_and_embed_without_a_key(api_client, admin_headers, upstream, saved):
    chat = saved("llm", requester="ollama-chat", model_name="llama3", api_keys=[])
    _ok_latency(_post(api_client, f"{BASE}/llm/{chat.pk}/test", {}, admin_headers))
    request = upstream.last
    assert (request["method"], request["path"]) == ("POST", "/api/chat")
    assert "Authorization" not in request["headers"]
    assert request["json"] == {"model": "llama3", "messages": [{"role": "user", "content": "Hello"}], "stream": False}

    embed = saved("embedding", requester="ollama-chat", model_name="nomic-embed-text", api_keys=[])
    _ok_latency(_post(api_client, f"{BASE}/embedding/{embed.pk}/test", {}, admin_headers))
    assert (upstream.last["path"], upstream.last["json"]) == ("/api/embed", {"model": "nomic-embed-text", "input": ["Hello"]})


def test_unsaved_model_test_uses_the_body(api_client, auth_headers, upstream):
    body = {"name": "deepseek-chat", "provider": {"requester": "deepseek-chat-completions", "base_url": upstream.base_url,
                                                   "api_keys": [" ", KEY]}, "abilities": ["func_call"]}
    _ok_latency(_post(api_client, f"{BASE}/llm/_/test", body, auth_headers()))
    assert upstream.last["path"] == "/chat/completions"
    assert upstream.last["headers"]["Authorization"] == f"Bearer {KEY}"
    assert upstream.last["json"]["model"] == "deepseek-chat"


def test_unsaved_model_test_resolves_masked_keys_of_a_stored_provider(api_client, admin_headers, upstream, make_provider):
    provider = make_provider(base_url=upstream.base_url, api_keys=[KEY])
    body = {"name": "text-embedding-3-large",
            "provider": {"uuid": str(provider.pk), "requester": "openai-chat-completions",
                         "base_url": upstream.base_url, "api_keys": ["sk-***"]}}
    _ok_latency(_post(api_client, f"{BASE}/embedding/_/test", body, admin_headers))
    assert upstream.last["headers"]["Authorization"] == f"Bearer {KEY}"
    # Keys left out: the stored provider's.
    body["provider"].pop("api_keys")
    _ok_latency(_post(api_client, f"{BASE}/embedding/_/test", body, admin_headers))
    assert upstream.last["headers"]["Authorization"] == f"Bearer {KEY}"
    # Or simply name the stored provider.
    _ok_latency(_post(api_client, f"{BASE}/embedding/_/test", {"name": "e", "provider_uuid": str(provider.pk)}, admin_headers))
    assert upstream.last["json"]["model"] == "e"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"name": "m"}, "provider"),
        ({"name": "m", "provider": {"requester": "nope", "base_url": "http://127.0.0.1:1"}}, "unknown requester"),
        ({"name": "m", "provider": {"requester": "anthropic-messages", "base_url": "http://127.0.0.1:1"}}, "does not support"),
        ({"name": "m", "provider": {"requester": "openai-embeddings", "base_url": "not a url"}}, "base_url"),
        ({"name": "", "provider": {"requester": "openai-embeddings"}}, "name"),
        ({"name": "m", "provider": "openai"}, "provider"),
        ({"name": "m", "provider": {"requester": "openai-embeddings", "api_keys": ["sk-***"]}}, "masked"),
        ({"name": "m", "provider": {"requester": "openai-embeddings", "colour": "red"}}, "Unknown field"),
    ],
)
def test_unsaved_model_test_refuses_bad_input(api_client, admin_headers, body, fragment):
    assert fragment.lower() in _failure(_post(api_client, f"{BASE}/embedding/_/test", body, admin_headers)).lower()


# --- failures --------------------------------------------------------------------------------------------------------


def test_upstream_401_gives_the_upstreams_reason(api_client, admin_headers, upstream, saved):
    upstream.refuse(KEY, 401)
    model = saved("llm")
    msg = _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert "401" in msg and "key refused (401)" in msg


def test_upstream_500_with_json_error(api_client, admin_headers, upstream, saved):
    upstream.answer("/chat/completions", 500, json={"error": {"message": "The server had an error", "type": "server_error"}})
    model = saved("llm")
    msg = _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert msg == "upstream answered HTTP 500: The server had an error"


def test_upstream_500_without_json(api_client, admin_headers, upstream, saved):
    upstream.answer("/v1/messages", 502, body=b"<html>Bad gateway</html>", content_type="text/html")
    model = saved("llm", requester="anthropic-messages")
    assert _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers)) == "upstream answered HTTP 502: Bad Gateway"


def test_refused_connection(api_client, admin_headers, saved, closed_port_url):
    model = saved("llm", base_url=closed_port_url)
    assert _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers)) == f"cannot connect to {closed_port_url}"


def test_timeout_is_the_requester_timeout(api_client, admin_headers, upstream, saved):
    upstream.answer("/api/chat", 200, json={"message": {}}, delay=3)
    model = saved("llm", requester="ollama-chat", model_name="llama3", timeout=1)
    assert _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers)) == "upstream timed out after 1s"


def test_timeout_on_an_unsaved_test(api_client, admin_headers, upstream):
    upstream.answer("/embeddings", 200, json={"data": [{}]}, delay=3)
    body = {"name": "e", "provider": {"requester": "openai-embeddings", "base_url": upstream.base_url, "timeout": 1}}
    assert _failure(_post(api_client, f"{BASE}/embedding/_/test", body, admin_headers)) == "upstream timed out after 1s"


def test_non_json_answer(api_client, admin_headers, upstream, saved):
    upstream.answer("/embeddings", 200, body=b"<html>login page</html>", content_type="text/html")
    model = saved("embedding", model_name="text-embedding-3-small")
    msg = _failure(_post(api_client, f"{BASE}/embedding/{model.pk}/test", {}, admin_headers))
    assert msg.startswith("upstream answered non-JSON") and "text/html" in msg


def test_a_redirect_is_reported_not_followed(api_client, admin_headers, upstream, saved):
    upstream.answer("/v1/messages", 301, body=b"", content_type="text/plain")
    upstream.overrides["/v1/messages"]["headers"] = {"Location": "https://elsewhere.example/v1/messages"}
    model = saved("llm", requester="anthropic-messages")
    msg = _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert "redirected (HTTP 301) to https://elsewhere.example/v1/messages" in msg
    assert len(upstream.received) == 1


def test_egress_allowlist_keeps_tests_away_from_other_networks(api_client, admin_headers, upstream, saved, settings):
    settings.EGRESS_ALLOWED_NETWORKS = "10.0.0.0/8"
    model = saved("llm")
    msg = _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert "not allowed by EGRESS_ALLOWED_NETWORKS" in msg and upstream.received == []
    settings.EGRESS_ALLOWED_NETWORKS = "127.0.0.0/8"
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))


def test_json_of_the_wrong_shape(api_client, admin_headers, upstream, saved):
    upstream.answer("/rerank", 200, json={"unexpected": True})
    model = saved("rerank", requester="voyage", model_name="rerank-2")
    assert "not a rerank result" in _failure(_post(api_client, f"{BASE}/rerank/{model.pk}/test", {}, admin_headers))


def test_error_reported_with_http_200(api_client, admin_headers, upstream, saved):
    upstream.answer("/chat/completions", 200, json={"error": {"message": "model not found: gpt-5"}})
    model = saved("llm")
    assert "model not found: gpt-5" in _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))


# --- key rotation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 429])
def test_a_refused_key_rotates_to_the_next(api_client, admin_headers, upstream, saved, status):
    upstream.refuse(KEY, status)
    model = saved("llm", api_keys=[KEY, KEY2])
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert [r["headers"]["Authorization"] for r in upstream.received] == [f"Bearer {KEY}", f"Bearer {KEY2}"]


def test_anthropic_rotates_too(api_client, admin_headers, upstream, saved):
    upstream.refuse(KEY, 401)
    model = saved("llm", requester="anthropic-messages", model_name="claude", api_keys=[KEY, KEY2])
    _ok_latency(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert [r["headers"]["x-api-key"] for r in upstream.received] == [KEY, KEY2]


def test_other_failures_do_not_rotate(api_client, admin_headers, upstream, saved):
    upstream.answer("/chat/completions", 500, json={"error": "boom"})
    model = saved("llm", api_keys=[KEY, KEY2])
    assert "boom" in _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert len(upstream.received) == 1


def test_when_every_key_is_refused_the_message_never_shows_a_key(api_client, admin_headers, upstream, saved):
    upstream.refuse(KEY2, 401)
    # An upstream that echoes the key it refused must not leak it through us.
    upstream.answer("/chat/completions", 401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}})
    model = saved("llm", api_keys=[KEY, KEY2])
    msg = _failure(_post(api_client, f"{BASE}/llm/{model.pk}/test", {}, admin_headers))
    assert "tried 2 keys" in msg and "401" in msg
    assert KEY not in msg and KEY2 not in msg


# --- scan-models -----------------------------------------------------------------------------------------------------


def test_scan_models_marks_what_is_already_added(api_client, auth_headers, upstream, make_provider, make_model):
    provider = make_provider(base_url=upstream.base_url, api_keys=[KEY])
    make_model("llm", provider, "gpt-4o")
    headers = auth_headers()
    response = api_client.get(f"/api/v1/provider/providers/{provider.pk}/scan-models", **headers)
    assert response.status_code == 200, response.content
    models = {m["id"]: m for m in response.json()["data"]["models"]}
    assert models["gpt-4o"] == {"id": "gpt-4o", "name": "gpt-4o", "type": "llm", "already_added": True}
    assert models["text-embedding-3-small"]["type"] == "text-embedding"
    assert models["text-embedding-3-small"]["already_added"] is False
    assert models["bge-reranker-v2-m3"]["type"] == "rerank"
    assert (upstream.last["method"], upstream.last["path"]) == ("GET", "/models")
    assert upstream.last["headers"]["Authorization"] == f"Bearer {KEY}"

    only = api_client.get(f"/api/v1/provider/providers/{provider.pk}/scan-models?type=text-embedding", **headers)
    assert [m["id"] for m in only.json()["data"]["models"]] == ["text-embedding-3-small"]
    bad = api_client.get(f"/api/v1/provider/providers/{provider.pk}/scan-models?type=video", **headers)
    assert bad.status_code == 400


def test_scan_models_of_anthropic_and_ollama(api_client, admin_headers, upstream, make_provider):
    anthropic = make_provider(requester="anthropic-messages", base_url=upstream.base_url, api_keys=[KEY])
    found = api_client.get(f"/api/v1/provider/providers/{anthropic.pk}/scan-models", **admin_headers).json()["data"]["models"]
    assert found == [{"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "type": "llm", "already_added": False}]
    assert upstream.last["path"] == "/v1/models" and upstream.last["headers"]["x-api-key"] == KEY

    ollama = make_provider(requester="ollama-chat", base_url=upstream.base_url, api_keys=[])
    found = api_client.get(f"/api/v1/provider/providers/{ollama.pk}/scan-models", **admin_headers).json()["data"]["models"]
    assert {m["id"]: m["type"] for m in found} == {"llama3:latest": "llm", "nomic-embed-text:latest": "text-embedding"}
    assert upstream.last["path"] == "/api/tags"


def test_scan_models_failures_are_400(api_client, admin_headers, upstream, make_provider, closed_port_url):
    down = make_provider(base_url=closed_port_url)
    response = api_client.get(f"/api/v1/provider/providers/{down.pk}/scan-models", **admin_headers)
    assert _failure(response) == f"cannot connect to {closed_port_url}"
    upstream.answer("/models", 200, body=b"not json", content_type="text/plain")
    odd = make_provider(base_url=upstream.base_url)
    assert "non-JSON" in _failure(api_client.get(f"/api/v1/provider/providers/{odd.pk}/scan-models", **admin_headers))

"""/api/v1/provider/providers: shapes, validation, key handling, deletion rules, scopes, bad input."""

import json

import pytest

from apikeys.scopes import ALL_SCOPES
from providers.models import Provider

URL = "/api/v1/provider/providers"
KEY_A = "sk-proj-AAAAAAAAAAAAAAAAAAAAAAAA"
KEY_B = "sk-proj-BBBBBBBBBBBBBBBBBBBBBBBB"


def _post(api_client, headers, body, path=URL):
    return api_client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def _put(api_client, headers, path, body):
    return api_client.put(path, data=json.dumps(body), content_type="application/json", **headers)


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == -1 and isinstance(body["msg"], str) and body["msg"]
    return body["msg"]


def _new_body(**changes):
    return {"name": "OpenAI", "requester": "openai-chat-completions", "base_url": "https://api.openai.com/v1",
            "api_keys": [KEY_A], **changes}


def test_create_then_read_back(api_client, auth_headers):
    headers = auth_headers()
    response = _post(api_client, headers, _new_body(api_keys=[f"  {KEY_A} ", KEY_B, KEY_A, "", "  "]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 0 and set(body["data"]) == {"uuid"}
    provider_uuid = body["data"]["uuid"]

    detail = api_client.get(f"{URL}/{provider_uuid}", **headers).json()["data"]["provider"]
    assert {"uuid", "name", "requester", "base_url", "api_keys", "created_at", "updated_at"} <= set(detail)
    assert detail["uuid"] == provider_uuid and detail["name"] == "OpenAI"
    assert detail["requester"] == "openai-chat-completions" and detail["base_url"] == "https://api.openai.com/v1"
    assert detail["api_keys"] == [KEY_A, KEY_B]  # stripped, blanks dropped, de-duplicated, order kept
    assert detail["created_at"] and detail["updated_at"]


def test_list_with_model_counts(api_client, admin_headers, make_provider, make_model):
    busy, idle = make_provider(name="busy"), make_provider(name="idle")
    make_model("llm", busy, "gpt-4o")
    make_model("llm", busy, "gpt-4o-mini")
    make_model("embedding", busy, "text-embedding-3-small")
    response = api_client.get(URL, **admin_headers)
    assert response.status_code == 200
    providers = {p["name"]: p for p in response.json()["data"]["providers"]}
    assert (providers["busy"]["llm_count"], providers["busy"]["embedding_count"], providers["busy"]["rerank_count"]) == (2, 1, 0)
    assert (providers["idle"]["llm_count"], providers["idle"]["embedding_count"], providers["idle"]["rerank_count"]) == (0, 0, 0)
    assert providers["busy"]["uuid"] == str(busy.pk) and providers["idle"]["uuid"] == str(idle.pk)


def test_base_url_defaults_to_the_requesters_and_loses_its_trailing_slash(api_client, admin_headers):
    created = _post(api_client, admin_headers, {"name": "DS", "requester": "deepseek-chat-completions"}).json()["data"]
    assert Provider.objects.get(pk=created["uuid"]).base_url == "https://api.deepseek.com"
    created = _post(api_client, admin_headers, _new_body(base_url="http://ollama:11434/")).json()["data"]
    assert Provider.objects.get(pk=created["uuid"]).base_url == "http://ollama:11434"


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"requester": "no-such-requester"}, "unknown requester"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "ftp://api.example.com"}, "base_url"),
        ({"base_url": "https://"}, "base_url"),
        ({"base_url": "http://host:port/v1"}, "base_url"),
        ({"api_keys": "sk-just-a-string"}, "api_keys"),
        ({"api_keys": [1, 2]}, "api_keys"),
        ({"name": 12}, "name"),
        ({"name": "x" * 1_000_000}, "name"),
        ({"unexpected": True}, "Unknown field"),
        ({"timeout": "soon"}, "timeout"),
        ({"api_keys": ["sk-***"]}, "masked"),
    ],
)
def test_create_refuses_bad_input_with_a_400_envelope(api_client, admin_headers, changes, fragment):
    msg = _error(_post(api_client, admin_headers, _new_body(**changes)), 400)
    assert fragment.lower() in msg.lower()
    assert Provider.objects.count() == 0


def test_create_refuses_a_missing_field_and_malformed_json(api_client, admin_headers):
    body = _new_body()
    del body["requester"]
    assert "requester" in _error(_post(api_client, admin_headers, body), 400)
    response = api_client.post(URL, data="{not json", content_type="application/json", **admin_headers)
    _error(response, 400)
    response = api_client.post(URL, data="[1, 2]", content_type="application/json", **admin_headers)
    _error(response, 400)


def test_update_changes_fields_and_keeps_masked_keys(api_client, auth_headers, issue_key, make_provider):
    provider = make_provider(api_keys=[KEY_A, KEY_B])
    headers = auth_headers()
    response = _put(api_client, headers, f"{URL}/{provider.pk}", {
        "name": "Renamed", "requester": "openai-chat-completions", "base_url": "https://proxy.example.com/v1/",
        "api_keys": ["sk-***", "sk-new-CCCCCCCCCCCCCCCCCCCC"],
    })
    assert response.status_code == 200, response.content
    returned = response.json()["data"]["provider"]
    assert returned["uuid"] == str(provider.pk) and returned["name"] == "Renamed"
    assert returned["api_keys"] == [KEY_A, "sk-new-CCCCCCCCCCCCCCCCCCCC"]  # this caller may see secrets
    provider.refresh_from_db()
    assert provider.name == "Renamed" and provider.base_url == "https://proxy.example.com/v1"
    assert provider.api_keys == [KEY_A, "sk-new-CCCCCCCCCCCCCCCCCCCC"]  # the masked value kept the first stored key

    # A client that read masked keys and sends everything back unchanged keeps every key.
    viewer = {"HTTP_X_API_KEY": issue_key(scopes=["resource.view"])}
    shown = api_client.get(f"{URL}/{provider.pk}", **viewer).json()["data"]["provider"]
    assert shown["api_keys"] == ["sk-***", "sk-***"]
    assert _put(api_client, headers, f"{URL}/{provider.pk}", shown).status_code == 200
    provider.refresh_from_db()
    assert provider.api_keys == [KEY_A, "sk-new-CCCCCCCCCCCCCCCCCCCC"]


def test_update_validates_like_create(api_client, admin_headers, make_provider, make_model):
    provider = make_provider()
    path = f"{URL}/{provider.pk}"
    assert "unknown requester" in _error(_put(api_client, admin_headers, path, {"requester": "nope"}), 400)
    assert "base_url" in _error(_put(api_client, admin_headers, path, {"base_url": "://x"}), 400)
    assert "name" in _error(_put(api_client, admin_headers, path, {"name": ""}), 400)
    make_model("embedding", provider, "text-embedding-3-small")
    msg = _error(_put(api_client, admin_headers, path, {"requester": "anthropic-messages"}), 400)
    assert "text-embedding" in msg
    provider.refresh_from_db()
    assert provider.requester == "openai-chat-completions"


def test_unknown_or_malformed_uuid_is_404(api_client, admin_headers):
    for path in (f"{URL}/3f1c7a6e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", f"{URL}/not-a-uuid", f"{URL}/1%20OR%201=1"):
        assert _error(api_client.get(path, **admin_headers), 404) == "provider not found"
        assert _error(_put(api_client, admin_headers, path, {"name": "x"}), 404) == "provider not found"
        assert _error(api_client.delete(path, **admin_headers), 404) == "provider not found"
        assert _error(api_client.get(f"{path}/scan-models", **admin_headers), 404) == "provider not found"


def test_delete_is_refused_while_models_use_it_unless_cascade(api_client, admin_headers, make_provider, make_model):
    provider = make_provider(requester="siliconflow-chat-completions")
    make_model("llm", provider, "gpt-4o")
    make_model("rerank", provider, "bge-reranker")
    path = f"{URL}/{provider.pk}"
    msg = _error(api_client.delete(path, **admin_headers), 400)
    assert "gpt-4o" in msg and "bge-reranker" in msg and "cascade" in msg
    assert Provider.objects.filter(pk=provider.pk).exists()

    response = api_client.delete(f"{path}?cascade=true", **admin_headers)
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "ok", "data": None}
    assert not Provider.objects.filter(pk=provider.pk).exists()
    assert api_client.get("/api/v1/provider/models/llm", **admin_headers).json()["data"]["models"] == []


def test_delete_an_unused_provider(api_client, auth_headers, make_provider):
    provider = make_provider()
    response = api_client.delete(f"{URL}/{provider.pk}", **auth_headers(["resource.view", "resource.manage"]))
    assert response.status_code == 200 and not Provider.objects.exists()


# --- secrets in responses ------------------------------------------------------------------------------------------


def test_keys_are_masked_for_callers_without_provider_secret_manage(api_client, auth_headers, make_provider, make_model):
    provider = make_provider(api_keys=[KEY_A, "short"])
    model = make_model("llm", provider)
    viewer = auth_headers(["resource.view"])
    listed = api_client.get(URL, **viewer).json()["data"]["providers"][0]
    detail = api_client.get(f"{URL}/{provider.pk}", **viewer).json()["data"]["provider"]
    embedded = api_client.get(f"/api/v1/provider/models/llm/{model.pk}", **viewer).json()["data"]["model"]["provider"]
    for shown in (listed, detail, embedded):
        assert shown["api_keys"] == ["sk-***", "***"]
    for response in (api_client.get(URL, **viewer), api_client.get(f"{URL}/{provider.pk}", **viewer)):
        assert KEY_A.encode() not in response.content

    secret_holder = auth_headers(["resource.view", "provider_secret.manage"])
    assert api_client.get(f"{URL}/{provider.pk}", **secret_holder).json()["data"]["provider"]["api_keys"] == [KEY_A, "short"]


# --- scopes and credentials ------------------------------------------------------------------------------------------


def _routes(provider_uuid):
    path = f"{URL}/{provider_uuid}"
    return [
        ("get", URL, None, "resource.view"),
        ("post", URL, _new_body(), "provider_secret.manage"),
        ("get", path, None, "resource.view"),
        ("put", path, {"name": "x"}, "provider_secret.manage"),
        ("get", f"{path}/scan-models", None, "provider_secret.manage"),
        ("delete", path, None, "resource.manage"),
    ]


def _call(api_client, method, path, body, headers):
    if body is None:
        return getattr(api_client, method)(path, **headers)
    return getattr(api_client, method)(path, data=json.dumps(body), content_type="application/json", **headers)


def test_every_route_enforces_its_scope(api_client, credential_kind, auth_headers, make_provider):
    provider = make_provider()
    for method, path, body, scope in _routes(provider.pk):
        if credential_kind == "bearer-token":
            if scope == "resource.view":
                continue  # every person holds resource.view
            headers = auth_headers(["resource.view"])  # a non-staff person
        else:
            headers = auth_headers([s for s in ALL_SCOPES if s != scope])
        response = _call(api_client, method, path, body, headers)
        assert response.status_code == 403, (method, path)
        assert scope in response.json()["msg"]
        assert _call(api_client, method, path, body, {}).status_code == 401


def test_every_route_works_with_each_credential_kind(api_client, credential_kind, auth_headers, make_provider, upstream):
    provider = make_provider(base_url=upstream.base_url)
    headers = auth_headers()
    for method, path, body, _scope in _routes(provider.pk):
        response = _call(api_client, method, path, body, headers)
        assert response.status_code == 200, (method, path, response.content)
        assert response.json()["code"] == 0

"""/api/v1/provider/models/{llm,embedding,rerank}: shapes, provider embedding, filter, validation, scopes."""

import json

import pytest

from apikeys.scopes import ALL_SCOPES
from providers.models import MODEL_KINDS

BASE = "/api/v1/provider/models"
KINDS = ["llm", "embedding", "rerank"]
MODEL_FIELDS = {"uuid", "name", "provider_uuid", "context_length", "extra_args", "prefered_ranking", "created_at", "updated_at"}


def _send(api_client, method, path, body, headers):
    return getattr(api_client, method)(path, data=json.dumps(body), content_type="application/json", **headers)


def _error(response, status):
    assert response.status_code == status, response.content
    assert response.json()["code"] == -1
    return response.json()["msg"]


@pytest.fixture
def serving_provider(make_provider):
    """A provider whose requester serves all three kinds."""
    return make_provider(name="SiliconFlow", requester="siliconflow-chat-completions", api_keys=["sk-sf-0123456789abcdef"])


@pytest.mark.parametrize("kind", KINDS)
def test_create_read_update_delete(api_client, auth_headers, serving_provider, kind):
    headers = auth_headers()
    body = {"name": "some-model", "provider_uuid": str(serving_provider.pk), "context_length": 32768,
            "extra_args": {"temperature": 0.2}}
    if kind == "llm":
        body["abilities"] = ["vision", "func_call", "vision"]
    created = _send(api_client, "post", f"{BASE}/{kind}", body, headers)
    assert created.status_code == 200, created.content
    assert set(created.json()["data"]) == {"uuid"}
    model_uuid = created.json()["data"]["uuid"]

    model = api_client.get(f"{BASE}/{kind}/{model_uuid}", **headers).json()["data"]["model"]
    expected_fields = MODEL_FIELDS | {"provider"} | ({"abilities"} if kind == "llm" else set())
    assert set(model) == expected_fields
    assert model["uuid"] == model_uuid and model["name"] == "some-model"
    assert model["provider_uuid"] == str(serving_provider.pk)
    assert model["context_length"] == 32768 and model["extra_args"] == {"temperature": 0.2}
    assert model["prefered_ranking"] == 0
    if kind == "llm":
        assert model["abilities"] == ["vision", "func_call"]
    provider = model["provider"]
    assert provider["uuid"] == str(serving_provider.pk) and provider["name"] == "SiliconFlow"
    assert provider["requester"] == "siliconflow-chat-completions"
    assert {"base_url", "api_keys", "created_at", "updated_at"} <= set(provider)

    updated = _send(api_client, "put", f"{BASE}/{kind}/{model_uuid}",
                    {"name": "renamed", "provider_uuid": str(serving_provider.pk), "prefered_ranking": 5,
                     "extra_args": {}}, headers)
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["model"]["name"] == "renamed"
    again = api_client.get(f"{BASE}/{kind}/{model_uuid}", **headers).json()["data"]["model"]
    assert again["name"] == "renamed" and again["prefered_ranking"] == 5 and again["extra_args"] == {}
    assert again["context_length"] == 32768  # fields left out of a PUT keep their value

    listed = api_client.get(f"{BASE}/{kind}", **headers).json()["data"]["models"]
    assert [m["uuid"] for m in listed] == [model_uuid]
    assert set(listed[0]) == expected_fields - {"provider"}

    deleted = api_client.delete(f"{BASE}/{kind}/{model_uuid}", **headers)
    assert deleted.status_code == 200 and deleted.json()["data"] is None
    assert _error(api_client.get(f"{BASE}/{kind}/{model_uuid}", **headers), 404) == "model not found"


def test_sending_back_a_model_detail_is_accepted(api_client, admin_headers, serving_provider, make_model):
    model = make_model("llm", serving_provider, "gpt-4o", abilities=["vision"])
    detail = api_client.get(f"{BASE}/llm/{model.pk}", **admin_headers).json()["data"]["model"]
    detail["name"] = "gpt-4o-2024"
    assert _send(api_client, "put", f"{BASE}/llm/{model.pk}", detail, admin_headers).status_code == 200
    model.refresh_from_db()
    assert model.name == "gpt-4o-2024" and model.abilities == ["vision"]


@pytest.mark.parametrize("kind", KINDS)
def test_list_filters_by_provider(api_client, admin_headers, make_provider, make_model, kind):
    first = make_provider(name="first", requester="siliconflow-chat-completions")
    second = make_provider(name="second", requester="siliconflow-chat-completions")
    a = make_model(kind, first, "a")
    b = make_model(kind, second, "b")
    both = api_client.get(f"{BASE}/{kind}", **admin_headers).json()["data"]["models"]
    assert {m["uuid"] for m in both} == {str(a.pk), str(b.pk)}
    only = api_client.get(f"{BASE}/{kind}", {"provider_uuid": str(second.pk)}, **admin_headers).json()["data"]["models"]
    assert [m["uuid"] for m in only] == [str(b.pk)]
    assert "provider_uuid" in _error(api_client.get(f"{BASE}/{kind}", {"provider_uuid": "zzz"}, **admin_headers), 400)


@pytest.mark.parametrize(
    "kind, requester",
    [("embedding", "anthropic-messages"), ("rerank", "openai-chat-completions"), ("llm", "openai-embeddings")],
)
def test_the_providers_requester_must_support_the_type(api_client, admin_headers, make_provider, kind, requester):
    provider = make_provider(requester=requester)
    msg = _error(_send(api_client, "post", f"{BASE}/{kind}", {"name": "m", "provider_uuid": str(provider.pk)},
                       admin_headers), 400)
    assert "does not support" in msg and MODEL_KINDS[kind].support_type in msg
    assert MODEL_KINDS[kind].model.objects.count() == 0


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 1_000_000}, "name"),
        ({"provider_uuid": "not-a-uuid"}, "provider_uuid"),
        ({"provider_uuid": "3f1c7a6e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"}, "provider not found"),
        ({"abilities": ["telepathy"]}, "abilities"),
        ({"abilities": "vision"}, "abilities"),
        ({"context_length": "long"}, "context_length"),
        ({"context_length": -1}, "context_length"),
        ({"extra_args": [1, 2]}, "extra_args"),
        ({"extra_args": {"blob": "x" * 100_000}}, "extra_args"),
        ({"prefered_ranking": "first"}, "prefered_ranking"),
        ({"typo_field": 1}, "Unknown field"),
    ],
)
def test_create_refuses_bad_input(api_client, admin_headers, serving_provider, changes, fragment):
    body = {"name": "m", "provider_uuid": str(serving_provider.pk), **changes}
    msg = _error(_send(api_client, "post", f"{BASE}/llm", body, admin_headers), 400)
    assert fragment.lower() in msg.lower()


def test_abilities_apply_to_llm_models_only(api_client, admin_headers, serving_provider):
    body = {"name": "emb", "provider_uuid": str(serving_provider.pk), "abilities": ["vision"]}
    assert "LLM" in _error(_send(api_client, "post", f"{BASE}/embedding", body, admin_headers), 400)
    body["abilities"] = []  # what a generic client may send: accepted, nothing to store
    assert _send(api_client, "post", f"{BASE}/embedding", body, admin_headers).status_code == 200


def test_malformed_json_and_non_object_bodies(api_client, admin_headers):
    for raw in ("{oops", "[]", "\"text\"", "null"):
        response = api_client.post(f"{BASE}/llm", data=raw, content_type="application/json", **admin_headers)
        _error(response, 400)


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_or_malformed_model_uuid_is_404(api_client, admin_headers, kind):
    for bad in ("3f1c7a6e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", "nope", "_"):
        assert _error(api_client.get(f"{BASE}/{kind}/{bad}", **admin_headers), 404) == "model not found"
        assert _error(api_client.delete(f"{BASE}/{kind}/{bad}", **admin_headers), 404) == "model not found"
        assert _error(_send(api_client, "put", f"{BASE}/{kind}/{bad}", {"name": "x"}, admin_headers), 404) == "model not found"
        if bad != "_":  # `_/test` is the unsaved-model test: an empty body there is a 400
            assert _error(_send(api_client, "post", f"{BASE}/{kind}/{bad}/test", {}, admin_headers), 404) == "model not found"


def test_update_to_a_provider_that_cannot_serve_the_type_is_refused(api_client, admin_headers, serving_provider, make_provider, make_model):
    model = make_model("embedding", serving_provider, "bge-m3")
    anthropic = make_provider(requester="anthropic-messages")
    msg = _error(_send(api_client, "put", f"{BASE}/embedding/{model.pk}", {"provider_uuid": str(anthropic.pk)}, admin_headers), 400)
    assert "does not support" in msg
    model.refresh_from_db()
    assert model.provider_id == serving_provider.pk


# --- scopes and credentials ------------------------------------------------------------------------------------------


def _routes(kind, model_uuid, provider_uuid):
    path = f"{BASE}/{kind}/{model_uuid}"
    return [
        ("get", f"{BASE}/{kind}", None, "resource.view"),
        ("post", f"{BASE}/{kind}", {"name": "new", "provider_uuid": str(provider_uuid)}, "provider_secret.manage"),
        ("get", path, None, "resource.view"),
        ("put", path, {"name": "renamed"}, "provider_secret.manage"),
        ("post", f"{path}/test", {}, "provider_secret.manage"),
        ("post", f"{BASE}/{kind}/_/test", {"name": "m", "provider_uuid": str(provider_uuid)}, "provider_secret.manage"),
        ("delete", path, None, "resource.manage"),
    ]


def _call(api_client, method, path, body, headers):
    if body is None:
        return getattr(api_client, method)(path, **headers)
    return _send(api_client, method, path, body, headers)


@pytest.mark.parametrize("kind", KINDS)
def test_every_route_enforces_its_scope(api_client, credential_kind, auth_headers, serving_provider, make_model, kind):
    model = make_model(kind, serving_provider, "m")
    for method, path, body, scope in _routes(kind, model.pk, serving_provider.pk):
        if credential_kind == "bearer-token":
            if scope == "resource.view":
                continue  # every person holds resource.view
            headers = auth_headers(["resource.view"])
        else:
            headers = auth_headers([s for s in ALL_SCOPES if s != scope])
        response = _call(api_client, method, path, body, headers)
        assert response.status_code == 403, (method, path, response.content)
        assert scope in response.json()["msg"]
        assert _call(api_client, method, path, body, {}).status_code == 401


@pytest.mark.parametrize("kind", KINDS)
def test_every_route_works_with_each_credential_kind(api_client, auth_headers, make_provider, make_model, upstream, kind):
    provider = make_provider(requester="siliconflow-chat-completions", base_url=upstream.base_url)
    model = make_model(kind, provider, "m")
    headers = auth_headers()
    for method, path, body, _scope in _routes(kind, model.pk, provider.pk):
        response = _call(api_client, method, path, body, headers)
        assert response.status_code == 200, (method, path, response.content)
        assert response.json()["code"] == 0

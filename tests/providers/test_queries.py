"""List endpoints cost the same number of SQL queries for 10 rows as for 500 (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import MODEL_KINDS, Provider


def _bulk(kind_key, provider, count, start=0):
    model = MODEL_KINDS[kind_key].model
    model.objects.bulk_create([model(name=f"{kind_key}-{i}", provider=provider) for i in range(start, start + count)])


def _queries(api_client, path) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), response.json()["data"]


@pytest.fixture
def logged_in(api_client, admin_user):
    api_client.force_authenticate(admin_user)  # keeps authentication's own queries out of the count
    return api_client


@pytest.mark.parametrize("kind_key", ["llm", "embedding", "rerank"])
def test_model_list_is_constant_in_queries(logged_in, make_provider, kind_key):
    provider = make_provider(requester="siliconflow-chat-completions")
    _bulk(kind_key, provider, 10)
    small, data = _queries(logged_in, f"/api/v1/provider/models/{kind_key}")
    assert len(data["models"]) == 10
    _bulk(kind_key, provider, 490, start=10)
    large, data = _queries(logged_in, f"/api/v1/provider/models/{kind_key}")
    assert len(data["models"]) == 500
    assert large == small
    filtered, data = _queries(logged_in, f"/api/v1/provider/models/{kind_key}?provider_uuid={provider.pk}")
    assert len(data["models"]) == 500 and filtered == small


def test_provider_list_with_counts_is_constant_in_queries(logged_in, make_provider):
    providers = [make_provider(name=f"p{i}", requester="siliconflow-chat-completions") for i in range(10)]
    for provider in providers:
        _bulk("llm", provider, 1)
    small, data = _queries(logged_in, "/api/v1/provider/providers")
    assert [p["llm_count"] for p in data["providers"]] == [1] * 10

    for provider in providers:
        _bulk("llm", provider, 49, start=1)  # 500 LLM models in all
        _bulk("embedding", provider, 2)
        _bulk("rerank", provider, 1)
    more = [Provider(name=f"q{i}", requester="openai-chat-completions", base_url="https://x.example") for i in range(40)]
    Provider.objects.bulk_create(more)
    large, data = _queries(logged_in, "/api/v1/provider/providers")
    counts = {p["name"]: (p["llm_count"], p["embedding_count"], p["rerank_count"]) for p in data["providers"]}
    assert len(counts) == 50 and counts["p0"] == (50, 2, 1) and counts["q0"] == (0, 0, 0)
    assert large == small


@pytest.mark.parametrize("kind_key", ["llm", "embedding", "rerank"])
def test_list_items_are_exactly_the_detail_shape(logged_in, make_provider, kind_key):
    """The list is built without serializers for speed; it must say exactly what the detail route says."""
    provider = make_provider(requester="siliconflow-chat-completions")
    model = MODEL_KINDS[kind_key].model(
        name="shape", provider=provider, context_length=4096, extra_args={"temperature": 0.2, "tags": ["a"]},
        prefered_ranking=3, **({"abilities": ["vision", "func_call"]} if kind_key == "llm" else {}),
    )
    model.save()
    listed = logged_in.get(f"/api/v1/provider/models/{kind_key}").json()["data"]["models"]
    detail = logged_in.get(f"/api/v1/provider/models/{kind_key}/{model.pk}").json()["data"]["model"]
    detail.pop("provider")
    assert listed == [detail]

"""Model lists are cached per web process; every committed change, from any process or connection, shows at once."""


import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import LLMModel

pytestmark = pytest.mark.django_db(transaction=True)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(m["name"] for m in response.json()["data"]["models"])


def test_cached_list_follows_every_kind_of_write(api_client, admin_headers, live_server):
    provider = api_client.post("/api/v1/provider/providers", {
        "name": "cache", "requester": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1",
        "api_keys": ["sk-cache"]}, format="json", **admin_headers).json()["data"]["uuid"]
    url = "/api/v1/provider/models/llm"

    def create(name):
        response = api_client.post(url, {"name": name, "provider_uuid": provider}, format="json", **admin_headers)
        return response.json()["data"]["uuid"]

    first = create("a")
    assert names(api_client.get(url, **admin_headers)) == ["a"]
    with CaptureQueriesContext(connection) as served:  # a second read is answered from the cache
        assert names(api_client.get(url, **admin_headers)) == ["a"]
    assert not any("providers_llmmodel" in q["sql"] and "COUNT" not in q["sql"] for q in served.captured_queries)

    create("b")  # through the API
    assert names(api_client.get(url, **admin_headers)) == ["a", "b"]
    api_client.put(f"{url}/{first}", {"name": "a2", "provider_uuid": provider}, format="json", **admin_headers)
    assert names(api_client.get(url, **admin_headers)) == ["a2", "b"]
    assert names(api_client.get(f"{url}?provider_uuid={provider}", **admin_headers)) == ["a2", "b"]

    LLMModel.objects.bulk_create([LLMModel(name="bulk", provider_id=provider)])  # no signals
    assert names(api_client.get(url, **admin_headers)) == ["a2", "b", "bulk"]

    # A write committed by another connection (the live server's thread) is seen here at once.
    secret = admin_headers["HTTP_X_API_KEY"]
    with httpx.Client(base_url=live_server.url, headers={"X-API-Key": secret}) as other:
        other.delete(f"{url}/{first}").raise_for_status()
        assert names(other.get(url)) == ["b", "bulk"]
    assert names(api_client.get(url, **admin_headers)) == ["b", "bulk"]

    api_client.delete(f"/api/v1/provider/providers/{provider}?cascade=true", **admin_headers)
    assert names(api_client.get(url, **admin_headers)) == []

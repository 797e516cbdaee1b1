"""The admin pages for providers and models: masked keys, key replacement, inline models, test action, search."""

import pytest

from providers.models import LLMModel, Provider

KEY_A = "sk-admin-AAAAAAAAAAAAAAAAAAAA"
KEY_B = "sk-admin-BBBBBBBBBBBBBBBBBBBB"
CHANGELIST = "/admin/providers/provider/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _inline_management(**counts):
    data = {}
    for prefix in ("llm_models", "embedding_models", "rerank_models"):
        total, initial = counts.get(prefix, (0, 0))
        data.update({f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def _form_data(provider=None, **fields):
    data = {"name": "OpenAI", "requester": "openai-chat-completions", "base_url": "", "api_keys_text": "", "timeout": ""}
    data.update(_inline_management())
    data.update(fields)
    return data


def test_list_never_shows_a_full_key(admin_client, make_provider, make_model):
    provider = make_provider(name="Main", api_keys=[KEY_A, KEY_B])
    make_model("llm", provider, "gpt-4o")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Main" in page and "sk-***" in page
    assert KEY_A not in page and KEY_B not in page
    assert "/api/v1/provider/requesters/openai-chat-completions/icon" in page


def test_search_and_filter(admin_client, make_provider):
    make_provider(name="Alpha", requester="deepseek-chat-completions", base_url="https://api.deepseek.com")
    make_provider(name="Beta", requester="ollama-chat", base_url="http://gpu-box:11434")
    page = admin_client.get(CHANGELIST, {"q": "gpu-box"}).content.decode()
    assert "Beta" in page and "Alpha" not in page
    page = admin_client.get(CHANGELIST, {"requester": "deepseek-chat-completions"}).content.decode()
    assert "Alpha" in page and "Beta" not in page


def test_add_form_offers_requesters_with_icon_and_default_base_url(admin_client):
    page = admin_client.get(f"{CHANGELIST}add/").content.decode()
    assert 'data-base-url="https://api.deepseek.com"' in page
    assert 'data-icon="/api/v1/provider/requesters/deepseek-chat-completions/icon"' in page
    assert "Default base URL" in page  # the script that shows it


def test_add_provider_with_keys_and_an_inline_model(admin_client):
    data = _form_data(api_keys_text=f"{KEY_A}\n\n {KEY_B} \n{KEY_A}\n")
    data.update(_inline_management(llm_models=(1, 0)))
    data.update({"llm_models-0-name": "gpt-4o", "llm_models-0-abilities": '["vision"]', "llm_models-0-extra_args": "{}",
                 "llm_models-0-prefered_ranking": "0", "llm_models-0-context_length": ""})
    response = admin_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = Provider.objects.get()
    assert provider.api_keys == [KEY_A, KEY_B]
    assert provider.base_url == "https://api.openai.com/v1"  # the requester's default
    assert LLMModel.objects.get().provider == provider


def test_change_form_masks_keys_and_keeps_them_when_left_masked(admin_client, make_provider):
    provider = make_provider(api_keys=[KEY_A, KEY_B])
    url = f"{CHANGELIST}{provider.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert KEY_A not in page and KEY_B not in page
    assert "sk-*** (key 1)\nsk-*** (key 2)" in page

    # Unchanged masked lines keep both keys.
    response = admin_client.post(url, _form_data(name="Renamed", base_url=provider.base_url,
                                                 api_keys_text="sk-*** (key 1)\nsk-*** (key 2)"))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Renamed" and provider.api_keys == [KEY_A, KEY_B]

    # Deleting the first line removes that key; a new line adds one.
    admin_client.post(url, _form_data(base_url=provider.base_url, api_keys_text="sk-*** (key 2)\nsk-new-CCCCCCCCCCCCCCCC"))
    provider.refresh_from_db()
    assert provider.api_keys == [KEY_B, "sk-new-CCCCCCCCCCCCCCCC"]


def test_change_form_refuses_bad_values(admin_client, make_provider, make_model):
    provider = make_provider(api_keys=[KEY_A])
    make_model("embedding", provider, "text-embedding-3-small")
    url = f"{CHANGELIST}{provider.pk}/change/"
    for fields, fragment in [
        ({"base_url": "not a url"}, "base_url must be an http(s) URL"),
        ({"api_keys_text": "sk-*** (key 7)"}, "does not match a stored key"),
        ({"requester": "anthropic-messages", "base_url": "https://api.anthropic.com"}, "does not support text-embedding"),
        ({"name": ""}, "This field is required"),
    ]:
        response = admin_client.post(url, _form_data(**{"base_url": provider.base_url, **fields}))
        assert response.status_code == 200 and fragment in response.content.decode(), fields
    provider.refresh_from_db()
    assert provider.api_keys == [KEY_A] and provider.requester == "openai-chat-completions"


def test_inline_model_of_an_unsupported_kind_is_refused(admin_client, make_provider):
    provider = make_provider(requester="anthropic-messages", base_url="https://api.anthropic.com")
    data = _form_data(requester="anthropic-messages", base_url=provider.base_url)
    data.update(_inline_management(rerank_models=(1, 0)))
    data.update({"rerank_models-0-name": "bge-reranker", "rerank_models-0-extra_args": "{}", "rerank_models-0-prefered_ranking": "0"})
    response = admin_client.post(f"{CHANGELIST}{provider.pk}/change/", data)
    assert response.status_code == 200 and "does not support rerank" in response.content.decode()


def test_test_connection_action_reports_each_model(admin_client, make_provider, make_model, upstream, closed_port_url):
    working = make_provider(name="Working", base_url=upstream.base_url, api_keys=[KEY_A])
    make_model("llm", working, "gpt-4o")
    upstream.answer("/embeddings", 401, json={"error": {"message": "Invalid API key for embeddings"}})
    make_model("embedding", working, "text-embedding-3-small")
    empty = make_provider(name="Empty", base_url=upstream.base_url)
    down = make_provider(name="Down", base_url=closed_port_url)
    response = admin_client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [working.pk, empty.pk, down.pk]}, follow=True
    )
    page = response.content.decode()
    assert "Working / LLM model gpt-4o: OK, answered in" in page
    assert "Working / embedding model text-embedding-3-small: failed: upstream answered HTTP 401: Invalid API key for embeddings" in page
    assert "Empty: reachable, the upstream lists 3 model(s)" in page
    assert f"Down: failed: cannot connect to {closed_port_url}" in page
    assert KEY_A not in page


def test_model_admin_list_search_and_test_action(admin_client, make_provider, make_model, upstream):
    provider = make_provider(name="Up", base_url=upstream.base_url)
    llm = make_model("llm", provider, "gpt-4o")
    make_model("llm", provider, "o3-mini")
    page = admin_client.get("/admin/providers/llmmodel/", {"q": "o3"}).content.decode()
    assert "o3-mini" in page and "gpt-4o" not in page
    response = admin_client.post("/admin/providers/llmmodel/", {"action": "test_models", "_selected_action": [llm.pk]},
                                 follow=True)
    assert "Up / LLM model gpt-4o: OK, answered in" in response.content.decode()


def test_model_admin_refuses_a_provider_that_cannot_serve_the_kind(admin_client, make_provider):
    provider = make_provider(requester="anthropic-messages", base_url="https://api.anthropic.com")
    response = admin_client.post("/admin/providers/embeddingmodel/add/", {
        "name": "emb", "provider": provider.pk, "extra_args": "{}", "prefered_ranking": "0", "context_length": ""})
    assert response.status_code == 200 and "does not support text-embedding" in response.content.decode()


def test_deleting_a_provider_in_use_is_refused_in_the_admin_too(admin_client, make_provider, make_model):
    provider = make_provider()
    make_model("llm", provider, "gpt-4o")
    response = admin_client.post(f"{CHANGELIST}{provider.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200 and "gpt-4o" in response.content.decode()
    assert Provider.objects.exists()
    LLMModel.objects.all().delete()
    assert admin_client.post(f"{CHANGELIST}{provider.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Provider.objects.exists()

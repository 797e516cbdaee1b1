"""The seed documentation's promise: open /api/docs, fill in the API key under Authorize, press Try it out, get code 0."""

import json

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_model(api_client, headers) -> str:
    provider = api_client.post("/api/v1/provider/providers", {
        "name": "swagger-demo", "requester": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1",
        "api_keys": ["sk-demo"]}, format="json", **headers).json()["data"]["uuid"]
    api_client.post("/api/v1/provider/models/llm", {"name": "gpt-demo", "provider_uuid": provider}, format="json", **headers)
    return provider


def test_authorize_with_a_key_then_try_it_out_lists_the_models(page, live_server, api_client, admin_headers, issue_key, screenshot):
    seed_model(api_client, admin_headers)
    secret = issue_key(scopes=["resource.view"])

    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info")
    assert "LangBot Service API" in page.inner_text(".swagger-ui .info")
    screenshot("swagger")

    page.click("button.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(secret)  # the first scheme listed is ApiKeyAuth (X-API-Key)
    dialog.locator("button.authorize").first.click()
    screenshot("authorized")
    dialog.locator("button.btn-done").first.click()

    operation = page.locator('[id$="-provider_models_llm_list"]').first
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    screenshot("response")
    data = json.loads(body.inner_text())
    assert data["code"] == 0
    assert [m["name"] for m in data["data"]["models"]] == ["gpt-demo"]

"""The admin index: "LangBot admin" titles, counts per domain, and the latest plugin tasks."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import services as key_services
from plugins.models import PluginTask


def test_index_shows_counts_and_recent_tasks(client, admin_user, api_client, admin_headers):
    provider = api_client.post("/api/v1/provider/providers", {
        "name": "openai", "requester": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1",
        "api_keys": ["sk-index-secret"]}, format="json", **admin_headers).json()["data"]["uuid"]
    for name in ("gpt-a", "gpt-b"):
        api_client.post("/api/v1/provider/models/llm", {"name": name, "provider_uuid": provider}, format="json", **admin_headers)
    key_services.revoke_api_key(key_services.create_api_key(name="old", created_by=admin_user).key)
    PluginTask.objects.create(name="plugin-install-local", label="Installing plugin from local demo.lbpkg", status="running",
                              current_action="installing dependencies")

    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>Management | LangBot admin</title>" in html
    assert "langbot/admin.css" in html
    counts = {label: value for label, value, _ in page.context["counts"]}
    assert counts["Providers"] == 1 and counts["LLM models"] == 2 and counts["Plugins"] == 0
    assert counts["Active API keys"] == 1  # admin_headers' key; the revoked one does not count
    assert counts["Tasks in progress"] == 1
    assert "Installing plugin from local demo.lbpkg" in html and "installing dependencies" in html
    assert "sk-index-secret" not in html
    assert len(queries) < 25


def test_pages_are_titled_langbot_admin(client, admin_user):
    assert "Log in | LangBot admin</title>" in client.get("/admin/login/").content.decode()
    client.force_login(admin_user)
    for url in ["/admin/apikeys/apikey/", "/admin/providers/provider/", "/admin/plugins/plugin/"]:
        assert "| LangBot admin</title>" in client.get(url).content.decode(), url

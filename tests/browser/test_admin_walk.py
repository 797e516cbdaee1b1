"""The admin as a person walks it, in a real Chromium: log in with a password, add a provider with two keys and an
LLM model, test the connection against a local OpenAI-like upstream, create an API key and use it, and install a
plugin from a file while a real Celery worker runs the task. Every page is saved under test-artifacts/browser/."""

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from apikeys.models import APIKey
from plugins.models import Plugin
from providers.models import LLMModel, Provider
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.worker import empty_plugin_home
from tests.fake_http import local_server, serving

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "plugins"
FIRST_KEY = "sk-walk-first-0123456789abcdef"
SECOND_KEY = "sk-walk-second-fedcba9876543210"
UPSTREAM_MODELS = ["gpt-walk-mini", "gpt-walk-large"]
TASK_TIMEOUT_MS = 120_000  # generous: a cold worker on a busy machine


class OpenAILikeUpstream:
    """Answers /v1/models and /v1/chat/completions like OpenAI, and records every request's path and headers."""

    def __init__(self):
        self.received: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body: dict):
                content = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self):
                upstream.received.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                if self.path != "/v1/models":
                    return self.send_error(404)
                return self._answer({"object": "list", "data": [{"id": m, "object": "model"} for m in UPSTREAM_MODELS]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                upstream.received.append({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                          "json": body})
                if self.path != "/v1/chat/completions":
                    return self.send_error(404)
                return self._answer({
                    "id": "chatcmpl-walk", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "Hello from the fake upstream"}}],
                })

        self.server = local_server(Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def authorizations(self, method: str, path: str) -> list[str]:
        return [r["headers"].get("Authorization") for r in self.received if (r["method"], r["path"]) == (method, path)]


@pytest.fixture
def openai_upstream():
    upstream = OpenAILikeUpstream()
    with serving(upstream.server):
        yield upstream


def messages(page) -> str:
    return page.inner_text("ul.messagelist")


def run_action(page, action: str, row_text: str):
    """On a change list: tick the row showing `row_text`, pick the action, press Go."""
    page.locator("#result_list tbody tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")


def test_admin_walk(live_server, admin_user, page, screenshot, openai_upstream, worker, plugin_home):
    empty_plugin_home(plugin_home)
    base = live_server.url

    # Log in with a password, as a person does.
    page.goto(f"{base}/admin/")
    page.wait_for_selector("#id_username")
    screenshot("login")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert "/admin/login/" not in page.url
    screenshot("dashboard")

    # A provider with two keys, pointing at the local OpenAI-like upstream.
    page.goto(f"{base}/admin/providers/provider/add/")
    page.fill("#id_name", "Walk provider")
    page.select_option("#id_requester", "openai-chat-completions")
    page.fill("#id_base_url", openai_upstream.base_url)
    page.fill("#id_api_keys_text", f"{FIRST_KEY}\n{SECOND_KEY}")
    screenshot("provider-add")
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    screenshot("provider-list")
    listing = page.inner_text("#result_list")
    assert "Walk provider" in listing and "sk-***" in listing
    assert FIRST_KEY not in page.content() and SECOND_KEY not in page.content()
    provider = Provider.objects.get(name="Walk provider")
    assert provider.api_keys == [FIRST_KEY, SECOND_KEY]

    # Without models, "Test connection" asks the upstream for its model list.
    run_action(page, "test_connection", "Walk provider")
    screenshot("test-connection-no-models")
    assert "Walk provider: reachable, the upstream lists 2 model(s)" in messages(page)
    assert openai_upstream.authorizations("GET", "/v1/models") == [f"Bearer {FIRST_KEY}"]

    # An LLM model, inline on the provider's page; the masked key lines are left as they are.
    page.click("#result_list a:has-text('Walk provider')")
    page.wait_for_selector("#llm_models-group")
    key_lines = page.input_value("#id_api_keys_text")
    assert FIRST_KEY not in key_lines and "(key 1)" in key_lines and "(key 2)" in key_lines
    page.click("#llm_models-group .add-row a")
    page.fill("#id_llm_models-0-name", "gpt-walk-mini")
    page.fill("#id_llm_models-0-context_length", "128000")
    screenshot("provider-change-with-model")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # the inline row fits, no sideways scroll
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    assert list(LLMModel.objects.filter(provider=provider).values_list("name", flat=True)) == ["gpt-walk-mini"]
    provider.refresh_from_db()
    assert provider.api_keys == [FIRST_KEY, SECOND_KEY]  # the masked lines kept both keys

    # With a model, "Test connection" sends it one chat message through the upstream.
    run_action(page, "test_connection", "Walk provider")
    screenshot("test-connection-model")
    text = messages(page)
    assert "Walk provider / LLM model gpt-walk-mini: OK, answered in" in text
    chat = [r for r in openai_upstream.received if r["path"] == "/v1/chat/completions"]
    assert len(chat) == 1
    assert chat[0]["headers"]["Authorization"] == f"Bearer {FIRST_KEY}"
    assert chat[0]["json"]["model"] == "gpt-walk-mini"
    assert FIRST_KEY not in page.content()

    # An API key: its secret is shown once, and it works against the Service API.
    page.goto(f"{base}/admin/apikeys/apikey/add/")
    page.fill("#id_name", "walk-key")
    page.fill("#id_description", "made in the browser walk")
    screenshot("apikey-add")
    page.click("input[name=_save]")
    page.wait_for_selector("#api-key-secret")
    screenshot("apikey-created")
    secret = page.input_value("#api-key-secret")
    assert secret.startswith("lbk_") and len(secret) == 47
    created = page.inner_text("#content-main")
    assert "api_key.manage" in created  # no scope ticked: every scope the creator holds
    assert f"X-API-Key: {secret[:8]}" in created
    response = httpx.get(f"{base}/api/v1/apikeys", headers={"X-API-Key": secret}, timeout=30)
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0, body
    assert "walk-key" in [key["name"] for key in body["data"]["keys"]]
    assert secret not in response.text  # the list never carries a secret
    page.click("text=Done, I have stored it")
    page.wait_for_selector("#result_list")
    screenshot("apikey-list")
    assert "walk-key" in page.inner_text("#result_list") and secret not in page.content()
    assert APIKey.objects.get(name="walk-key").status == "active"

    # A plugin from a file: the task page follows the real worker to the end.
    page.goto(f"{base}/admin/plugins/plugin/")
    page.click("#install-from-file")
    page.wait_for_selector("#plugin-install-form")
    page.set_input_files("#id_file", str(FIXTURES / "qa-plugin-smoke-0.1.0.lbpkg"))
    screenshot("plugin-install-form")
    page.click("#plugin-install-form input[type=submit]")
    page.wait_for_selector("#task-live")
    screenshot("plugin-task-started")
    page.wait_for_function("document.getElementById('task-status').textContent === 'succeeded'",
                           timeout=TASK_TIMEOUT_MS)
    page.wait_for_selector("#task-live[data-done='1']", state="attached")
    screenshot("plugin-task-succeeded")
    assert page.eval_on_selector("#task-progress", "el => el.value") == 100
    assert page.inner_text("#task-progress-text") == "100%"
    assert page.inner_text("#task-action") == "done"
    assert page.is_hidden("#task-exception-row")
    assert page.inner_text(".field-status .readonly") == "Succeeded"  # the fields above agree with the live part
    assert page.inner_text(".field-plugin_key .readonly") == "qa/plugin-smoke"

    page.goto(f"{base}/admin/plugins/plugin/")
    screenshot("plugin-list")
    row = page.inner_text("#result_list")
    assert "plugin-smoke" in row and "0.1.0" in row
    assert Plugin.objects.filter(author="qa", name="plugin-smoke").exists()
    assert (plugin_home / "plugins" / "qa__plugin-smoke").is_dir()

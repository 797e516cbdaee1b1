"""DRF's browsable API, as a person signed in to the admin sees it: every GET route of /api/v1 (taken from the
generated OpenAPI schema, so a new route is covered without touching this file) renders as an HTML page showing the
envelope, routes that take a body offer a form, and the forms work as a browser submits them."""

import html
import json
import re
from http.server import BaseHTTPRequestHandler

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from apikeys import services as key_services
from apikeys.models import APIKey
from plugins.models import Plugin, PluginTask
from providers import services as provider_services
from providers.models import MODEL_KINDS
from tests.fake_http import local_server, serving

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}
BODY_METHODS = ("post", "put", "patch")


def api_operations() -> dict[str, dict]:
    """{path: {method: operation}} for every /api/v1 route, from the generated schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/v1/")}


def json_response(operation) -> bool:
    """Whether the route answers JSON (the envelope) rather than e.g. an image."""
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return not content or "application/json" in content


class ModelListUpstream:
    """The least of an OpenAI-like upstream: GET /v1/models, for scan-models."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "gpt-browsable", "object": "model"}]}).encode()
                self.send_response(200 if self.path == "/v1/models" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = local_server(Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def upstream():
    fake = ModelListUpstream()
    with serving(fake.server):
        yield fake


@pytest.fixture
def browser(admin_user):
    """A Django test client with the admin's session and CSRF checks on, like a browser after the admin login."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


@pytest.fixture
def objects(admin_user, upstream):
    """One real object behind every kind of path parameter."""
    # A requester that serves all three model kinds, so that every model route has an object.
    provider = provider_services.create_provider(name="browsable", requester="siliconflow-chat-completions",
                                                 base_url=upstream.base_url, api_keys=["sk-browsable-123456"])
    models = {key: provider_services.create_model(kind, name=f"{key}-model", provider=provider)
              for key, kind in MODEL_KINDS.items()}
    key = key_services.create_api_key(name="browsable-key", created_by=admin_user).key
    plugin = Plugin.objects.create(author="qa", name="browsable", version="1.0.0", source="local",
                                   config_schema=[{"name": "token", "type": "secret"}], config={"token": "hidden"})
    task = PluginTask.objects.create(name="install_local", label="Installing plugin from local x.lbpkg")
    return {"provider": provider, "models": models, "key": key, "plugin": plugin, "task": task}


def fill(path: str, objects) -> str:
    """The schema path with real objects in its parameters."""
    model_kind = re.match(r"/api/v1/provider/models/(\w+)/", path)
    values = {
        "id": str(objects["key"].pk),
        "uuid": str(objects["models"][model_kind[1]].uuid if model_kind else objects["provider"].uuid),
        "author": objects["plugin"].author,
        "name": objects["plugin"].name if path.startswith("/api/v1/plugins/") else objects["provider"].requester,
        "task_id": str(objects["task"].pk),
    }

    def value(match):
        assert match[1] in values, f"no object for the path parameter {{{match[1]}}} in {path}: add one to fill()"
        return values[match[1]]

    return re.sub(r"\{(\w+)\}", value, path)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def envelope_shown(response) -> dict:
    """The JSON the page shows in its response panel (after the status line and headers)."""
    panel = re.search(r'<div class="response-info"[^>]*>\s*<pre class="prettyprint">(.*?)</pre>',
                      response.content.decode(), re.S)
    assert panel, "no response panel on the page"
    text = html.unescape(re.sub(r"<[^>]+>", "", panel[1]))
    return json.loads(text[text.index("\n\n") + 2:])


def form_csrf_token(response) -> str:
    """The hidden field a plain form submit sends."""
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page's form has no CSRF token"
    return match[1]


def script_csrf_header(response) -> dict:
    """The header DRF's form script (csrf.js) sends with PUT/PATCH/DELETE, from the page's drf_csrf data."""
    match = re.search(r'<script type="application/json" id="drf_csrf">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the page has no drf_csrf data"
    csrf = json.loads(match[1])
    return {"HTTP_" + csrf["csrfHeaderName"].upper().replace("-", "_"): csrf["csrfToken"]}


def test_the_schema_lists_the_routes_this_file_relies_on():
    operations = api_operations()
    assert "get" in operations["/api/v1/apikeys"] and "post" in operations["/api/v1/apikeys"]
    assert "put" in operations["/api/v1/provider/providers/{uuid}"]
    assert len([m for ops in operations.values() for m in ops if m == "get"]) >= 20


def test_every_get_route_renders_as_html_with_the_envelope(browser, objects):
    for path, ops in api_operations().items():
        if "get" not in ops:
            continue
        url = fill(path, objects)
        response = browser.get(url, **HTML)
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
        if not json_response(ops["get"]):
            assert not response["Content-Type"].startswith("text/html"), url  # e.g. the requester icon
            continue
        assert response["Content-Type"].startswith("text/html"), (url, response["Content-Type"])
        page = page_text(response)
        assert "LangBot Service API" in page, url
        shown = envelope_shown(response)
        assert shown["code"] == 0 and shown["msg"] == "ok" and "data" in shown, (url, shown)


def test_routes_with_a_body_offer_a_form(browser, objects):
    for path, ops in api_operations().items():
        if "get" not in ops or not any(m in ops for m in BODY_METHODS):
            continue
        url = fill(path, objects)
        page = browser.get(url, **HTML).content.decode()
        # DRF's forms: POST submits as a plain form; PUT/PATCH go through its script (data-method).
        # Each has a raw-data form too, with the _content and _content_type fields.
        if "post" in ops:
            assert re.search(rf'<form action="{re.escape(url)}" method="POST"', page), (url, "post")
        for method in ("put", "patch"):
            if method in ops:
                assert f'<form action="{url}" data-method="PUT"' in page, (url, method)
        assert 'name="_content"' in page and 'name="_content_type"' in page, url


def test_create_an_api_key_through_the_html_form(browser, objects):
    page = browser.get("/api/v1/apikeys", **HTML)
    token = form_csrf_token(page)
    response = browser.post("/api/v1/apikeys", {"csrfmiddlewaretoken": token, "name": "from-the-form",
                                                "description": "typed into the browsable API"}, **HTML)
    assert response.status_code == 200, page_text(response)[:2000]
    shown = envelope_shown(response)
    assert shown["code"] == 0
    created = shown["data"]["key"]
    assert created["name"] == "from-the-form" and created["key"].startswith("lbk_")
    assert APIKey.objects.filter(name="from-the-form", status="active").exists()


def test_put_a_provider_name_through_the_raw_data_form(browser, objects):
    provider = objects["provider"]
    url = f"/api/v1/provider/providers/{provider.uuid}"
    page = browser.get(url, **HTML)
    assert f'<form action="{url}" data-method="PUT"' in page.content.decode()
    assert 'name="_content_type"' in page.content.decode() and 'name="_content"' in page.content.decode()
    body = {"name": "renamed in the browser", "requester": provider.requester, "base_url": provider.base_url,
            "api_keys": provider.api_keys}
    # What DRF's ajax-form.js sends for the raw-data form: the method of the form's button, the _content field as
    # the body, the _content_type field as Content-Type, and the page's CSRF token in a header.
    response = browser.put(url, json.dumps(body), content_type="application/json",
                           **script_csrf_header(page), **HTML)
    assert response.status_code == 200, page_text(response)[:2000]
    assert envelope_shown(response)["code"] == 0
    provider.refresh_from_db()
    assert provider.name == "renamed in the browser"
    assert provider.api_keys == ["sk-browsable-123456"]


def test_a_bad_form_shows_the_error_envelope_not_a_500(browser, objects):
    token = form_csrf_token(browser.get("/api/v1/apikeys", **HTML))
    response = browser.post("/api/v1/apikeys", {"csrfmiddlewaretoken": token, "name": ""}, **HTML)
    assert response.status_code == 400
    shown = envelope_shown(response)
    assert shown["code"] == -1 and "name" in shown["msg"]


def test_a_form_post_without_the_csrf_token_is_refused(browser, objects):
    response = browser.post("/api/v1/apikeys", {"name": "no-token"}, **HTML)
    assert response.status_code == 403
    assert not APIKey.objects.filter(name="no-token").exists()


def test_an_unauthenticated_browser_gets_the_login_link_not_a_500(db):
    response = Client().get("/api/v1/provider/providers?type=llm", **HTML)
    assert response.status_code == 401
    login = re.search(r'<a href="([^"]+)" id="api-login-link">Log in</a>', page_text(response))
    assert login and login[1] == "/admin/login/?next=/api/v1/provider/providers%3Ftype%3Dllm"
    assert envelope_shown(response) == {
        "code": -1, "msg": "No valid authentication provided (user token or API key required)"}


def test_signing_in_through_the_login_link_leads_back_to_the_page(admin_user):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    client = Client()
    response = client.post("/admin/login/?next=/api/v1/provider/providers", {
        "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/api/v1/provider/providers"})
    assert response.status_code == 302 and response["Location"] == "/api/v1/provider/providers"
    page = client.get(response["Location"], **HTML)
    assert page.status_code == 200 and envelope_shown(page)["data"] == {"providers": []}

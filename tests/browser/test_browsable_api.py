"""DRF's browsable API in a real Chromium: signed out, a page offers the admin's login and comes back; signed in, the
raw-data form's PUT (DRF's own script, with the page's CSRF token) renames a provider, and the page shows the
envelope of the answer. (tests/test_browsable_api.py covers every route without a browser.)"""

import json

import pytest

from providers import services as provider_services
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "sk-browsable-walk-0123456789"


def shown_envelope(page) -> dict:
    """The JSON in the page's response panel, after the status line and headers."""
    text = page.inner_text(".response-info pre")
    return json.loads(text[text.index("{"):])


def test_sign_in_from_the_api_page_then_put_through_the_raw_data_form(live_server, admin_user, page, screenshot):
    provider = provider_services.create_provider(name="before", requester="openai-chat-completions",
                                                 base_url="http://127.0.0.1:9/v1", api_keys=[KEY])
    url = f"{live_server.url}/api/v1/provider/providers/{provider.uuid}"

    page.goto(url)
    screenshot("signed-out")
    assert shown_envelope(page)["code"] == -1
    page.click("#api-login-link")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(url)
    screenshot("signed-in")
    assert shown_envelope(page)["data"]["provider"]["name"] == "before"

    page.click("a[href='#put-generic-content-form']")
    content = page.locator("#put-generic-content-form textarea[name=_content]")
    content.fill(json.dumps({"name": "renamed in Chromium", "requester": "openai-chat-completions",
                             "base_url": "http://127.0.0.1:9/v1", "api_keys": [KEY]}))
    screenshot("raw-data-form")
    page.click("#put-generic-content-form button:has-text('PUT')")
    page.wait_for_function("document.querySelector('.response-info pre').innerText.includes('HTTP 200')")
    screenshot("after-put")
    assert shown_envelope(page)["code"] == 0
    provider.refresh_from_db()
    assert provider.name == "renamed in Chromium" and provider.api_keys == [KEY]

"""The provider form in a real Chromium: the requester select shows its icon and default base URL, and a saved
provider's keys appear masked. Skipped, saying why, where Chromium is not installed (see tests/conftest.py)."""

import pytest

from providers.models import Provider
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "sk-browser-0123456789abcdef"


def test_provider_form_shows_requester_icon_and_default_base_url(live_server, admin_user, page, screenshot):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/providers/provider/add/")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#id_requester")

    page.select_option("#id_requester", "deepseek-chat-completions")
    page.wait_for_function("document.querySelector('#id_requester + img').naturalWidth > 0")  # the icon loaded
    assert page.locator("#id_requester + img").get_attribute("src") == (
        "/api/v1/provider/requesters/deepseek-chat-completions/icon")
    assert page.get_attribute("#id_base_url", "placeholder") == "https://api.deepseek.com"
    assert "Default base URL: https://api.deepseek.com" in page.inner_text(".requester-default-base-url")
    screenshot("add-form")

    page.fill("#id_name", "DeepSeek")
    page.fill("#id_api_keys_text", KEY)
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    screenshot("list")
    listing = page.inner_text("#result_list")
    assert "DeepSeek" in listing and "sk-***" in listing
    assert KEY not in page.content()
    assert Provider.objects.get().base_url == "https://api.deepseek.com"

"""The provider form in a real Chromium: the requester select shows its icon and default base URL, and a saved
provider's keys appear masked. Skipped, saying why, where Chromium is not installed."""

import os
import shutil
from pathlib import Path

import pytest

from providers.models import Provider
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "browser"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here


@pytest.fixture
def page(request):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser walk skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_provider_form_shows_requester_icon_and_default_base_url(page, live_server, admin_user):
    folder = ARTIFACTS / "providers-admin"
    folder.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/providers/provider/add/")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#id_requester")

    page.select_option("#id_requester", "deepseek-chat-completions")
    icon = page.locator("#id_requester + img")
    assert icon.get_attribute("src") == "/api/v1/provider/requesters/deepseek-chat-completions/icon"
    page.wait_for_function("document.querySelector('#id_requester + img').naturalWidth > 0")  # the icon loaded
    assert page.get_attribute("#id_base_url", "placeholder") == "https://api.deepseek.com"
    assert "Default base URL: https://api.deepseek.com" in page.inner_text(".requester-default-base-url")
    page.screenshot(path=str(folder / "01-add-form.png"), full_page=True)

    page.fill("#id_name", "DeepSeek")
    page.fill("#id_api_keys_text", "sk-browser-0123456789abcdef")
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    listing = page.inner_text("#result_list")
    assert "DeepSeek" in listing and "sk-***" in listing and "sk-browser-0123456789abcdef" not in listing
    page.screenshot(path=str(folder / "02-list.png"), full_page=True)
    assert Provider.objects.get().base_url == "https://api.deepseek.com"

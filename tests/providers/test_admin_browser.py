"""The provider form in a real Chromium: the requester select shows its icon and default base URL, and a saved
provider's keys appear masked. Skipped, saying why, where Chromium is not installed."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from providers.models import Provider
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "browser" / "providers-admin"
KEY = "sk-browser-0123456789abcdef"


def _in_own_thread(walk, *args):
    """Playwright's sync API refuses to start where another sync session (tests/browser's) already runs an event
    loop, so the walk gets a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(walk, *args).result(timeout=120)


def _walk_add_form(base_url: str) -> dict:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.goto(f"{base_url}/admin/login/?next=/admin/providers/provider/add/")
            page.fill("#id_username", ADMIN_EMAIL)
            page.fill("#id_password", ADMIN_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#id_requester")

            page.select_option("#id_requester", "deepseek-chat-completions")
            page.wait_for_function("document.querySelector('#id_requester + img').naturalWidth > 0")  # the icon loaded
            seen = {
                "icon": page.locator("#id_requester + img").get_attribute("src"),
                "placeholder": page.get_attribute("#id_base_url", "placeholder"),
                "hint": page.inner_text(".requester-default-base-url"),
            }
            page.screenshot(path=str(ARTIFACTS / "01-add-form.png"), full_page=True)

            page.fill("#id_name", "DeepSeek")
            page.fill("#id_api_keys_text", KEY)
            page.click("input[name=_save]")
            page.wait_for_selector("#result_list")
            seen["listing"] = page.inner_text("#result_list")
            seen["page"] = page.content()
            page.screenshot(path=str(ARTIFACTS / "02-list.png"), full_page=True)
            return seen
        finally:
            browser.close()


def test_provider_form_shows_requester_icon_and_default_base_url(live_server, admin_user):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser walk skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    seen = _in_own_thread(_walk_add_form, live_server.url)
    assert seen["icon"] == "/api/v1/provider/requesters/deepseek-chat-completions/icon"
    assert seen["placeholder"] == "https://api.deepseek.com"
    assert "Default base URL: https://api.deepseek.com" in seen["hint"]
    assert "DeepSeek" in seen["listing"] and "sk-***" in seen["listing"]
    assert KEY not in seen["page"]
    assert Provider.objects.get().base_url == "https://api.deepseek.com"

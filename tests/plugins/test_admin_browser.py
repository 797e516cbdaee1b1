"""The task page in a real Chromium: its progress bar and log follow a running install without a reload."""

import os

import pytest
from django.conf import settings as django_settings
from django.test import Client

from .conftest import build_package, data

pytestmark = [pytest.mark.worker, pytest.mark.browser]


def test_task_page_updates_live_while_the_install_runs(worker, live_server, admin_user, api_client, admin_headers,
                                                       upstream_settings, tmp_path, page, screenshot):
    package = build_package(tmp_path, author="qa", name="watched", version="1.0.0", padding=24 * 1024)
    upstream_settings.add_marketplace("qa", "watched", "1.0.0", package, slow=True)  # a few seconds of download
    body = {"plugin_author": "qa", "plugin_name": "watched", "plugin_version": "1.0.0"}
    task_id = data(api_client.post("/api/v1/plugins/install/marketplace", body, format="json",
                                   **admin_headers))["task_id"]

    client = Client()
    client.force_login(admin_user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/plugins/plugintask/{task_id}/change/")
    assert page.text_content("#task-status") in ("queued", "running")
    screenshot("running")
    # Without any reload, the page reaches the end of the install.
    page.wait_for_function("document.getElementById('task-status').textContent === 'succeeded'", timeout=60_000)
    page.wait_for_selector("#task-live[data-done='1']", state="attached")
    screenshot("succeeded")
    assert page.eval_on_selector("#task-progress", "el => el.value") == 100
    assert "activating..." in page.text_content("#task-log")
    # The read-only fields above the live section were redrawn too: they agree with it.
    assert page.inner_text(".field-status .readonly") == "Succeeded"
    assert page.inner_text(".field-finished_at .readonly") != "-"
    assert os.path.isdir(os.path.join(os.environ["PLUGIN_HOME"], "plugins", "qa__watched"))

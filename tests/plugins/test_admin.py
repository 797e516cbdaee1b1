"""The plugin admin: the list, the "Install from file" form, and the live task page with its JSON endpoint."""

import time

import pytest
from django.test import Client

from plugins import conf
from plugins.models import Plugin, PluginTask

from .conftest import PLUGIN_SMOKE, TASK_TIMEOUT, upload


@pytest.fixture
def admin_client_logged_in(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def plugin(db):
    return Plugin.objects.create(
        author="qa", name="listed", version="2.1.0", source="marketplace", component_counts={"Tool": 2},
        config_schema=[{"name": "token", "type": "secret"}], config={"token": "very-secret-token"},
    )


def test_plugin_list_shows_source_version_and_components_without_secrets(admin_client_logged_in, plugin):
    page = admin_client_logged_in.get("/admin/plugins/plugin/").content.decode()
    for text in ("listed", "2.1.0", "Marketplace", "Tool: 2", "Install from file"):
        assert text in page
    detail = admin_client_logged_in.get(f"/admin/plugins/plugin/{plugin.pk}/change/").content.decode()
    assert "***" in detail and "very-secret-token" not in detail


@pytest.mark.django_db
def test_install_form_starts_a_task_and_shows_its_page(admin_client_logged_in):
    assert admin_client_logged_in.get("/admin/plugins/plugin/install/").status_code == 200
    response = admin_client_logged_in.post("/admin/plugins/plugin/install/", {"file": upload(PLUGIN_SMOKE)})
    task = PluginTask.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/plugins/plugintask/{task.pk}/change/"
    assert task.name == "plugin-install-local"

    page = admin_client_logged_in.get(response["Location"]).content.decode()
    assert 'id="task-progress"' in page and f"/admin/plugins/plugintask/{task.pk}/json/" in page
    body = admin_client_logged_in.get(f"/admin/plugins/plugintask/{task.pk}/json/").json()
    assert (body["id"], body["status"], body["progress"]) == (task.pk, "queued", 0)


@pytest.mark.django_db
def test_install_form_refuses_oversized_files(admin_client_logged_in, settings):
    settings.PLUGIN_UPLOAD_MAX_BYTES = 100
    response = admin_client_logged_in.post("/admin/plugins/plugin/install/", {"file": upload(PLUGIN_SMOKE)})
    assert response.status_code == 200 and "larger than the limit" in response.content.decode()
    assert not PluginTask.objects.exists()


def test_uninstall_action_starts_a_delete_task(admin_client_logged_in, plugin):
    response = admin_client_logged_in.post("/admin/plugins/plugin/", {
        "action": "uninstall_plugins", "_selected_action": [plugin.pk]}, follow=True)
    assert response.status_code == 200
    task = PluginTask.objects.get()
    assert (task.name, task.params["delete_data"]) == ("plugin-delete", False)


def test_admin_pages_need_staff(client, plugin, viewer_user):
    client.force_login(viewer_user)
    for url in ("/admin/plugins/plugin/", "/admin/plugins/plugin/install/", "/admin/plugins/plugintask/1/json/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


@pytest.mark.worker
def test_install_from_the_admin_runs_to_completion(worker, admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/plugins/plugin/install/", {"file": upload(PLUGIN_SMOKE)})
    json_url = response["Location"].replace("/change/", "/json/")
    deadline = time.monotonic() + TASK_TIMEOUT
    while not (body := client.get(json_url).json())["runtime"]["done"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert body["status"] == "succeeded" and body["progress"] == 100
    assert "activating..." in body["task_context"]["log"]
    assert (conf.plugins_dir() / "qa__plugin-smoke" / "manifest.yaml").is_file()
    assert "plugin-smoke" in client.get("/admin/plugins/plugin/").content.decode()


def test_enabling_and_disabling_from_the_admin(admin_client_logged_in, plugin):
    admin_client_logged_in.post("/admin/plugins/plugin/", {"action": "disable_plugins",
                                                           "_selected_action": [plugin.pk]})
    plugin.refresh_from_db()
    assert plugin.enabled is False
    response = admin_client_logged_in.post(f"/admin/plugins/plugin/{plugin.pk}/change/", {"enabled": "on"})
    assert response.status_code == 302
    plugin.refresh_from_db()
    assert plugin.enabled is True and plugin.config == {"token": "very-secret-token"}

"""Plugin and task routes without a worker: validation, preview, limits, scopes, config masking, task shapes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from plugins import conf
from plugins.models import Plugin, PluginTask
from tests.plugins import hostile

from .conftest import AGENT_RUNNER, PLUGIN_SMOKE, build_package, data, upload

pytestmark = pytest.mark.django_db


def error(response, status):
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert body["code"] != 0 and body["msg"], body
    return body["msg"]


# ---------------------------------------------------------------------------------------------------------------
# Preview


@pytest.mark.parametrize("package, expected", [
    (AGENT_RUNNER, {"AgentRunner": 1}),
    (PLUGIN_SMOKE, None),
])
def test_preview_describes_a_fixture_package(api_client, admin_headers, package, expected):
    preview = data(api_client.post("/api/v1/plugins/install/local/preview", {"file": upload(package)},
                                   format="multipart", **admin_headers))
    assert preview["filename"] == package.name
    assert preview["size"] == package.stat().st_size
    assert preview["metadata"]["author"] == "qa"
    assert preview["manifest"]["kind"] == "Plugin"
    assert preview["requirements"] == []
    assert preview["file_count"] >= 3
    assert set(preview) == {"filename", "size", "manifest", "metadata", "component_types", "component_counts",
                            "requirements", "file_count"}
    if expected:
        assert preview["component_counts"] == expected
    assert not Plugin.objects.exists() and not PluginTask.objects.exists(), "a preview installs nothing"


@pytest.mark.parametrize("builder", [hostile.zip_slip, hostile.bomb, hostile.symlink, hostile.bad_yaml,
                                     hostile.too_many_entries, hostile.not_a_zip, hostile.encrypted,
                                     hostile.missing_manifest, hostile.missing_name])
def test_preview_refuses_hostile_archives_naming_the_rule(api_client, admin_headers, tmp_path, builder):
    response = api_client.post("/api/v1/plugins/install/local/preview", {"file": upload(builder(tmp_path))},
                               format="multipart", **admin_headers)
    assert hostile.REFUSALS[builder] in error(response, 400)


def test_preview_lists_requirements(api_client, admin_headers, tmp_path):
    package = build_package(tmp_path, requirements=["requests>=2", "# a comment", "lbtestdep==1.0"])
    preview = data(api_client.post("/api/v1/plugins/install/local/preview", {"file": upload(package)},
                                   format="multipart", **admin_headers))
    assert preview["requirements"] == ["requests>=2", "lbtestdep==1.0"]


# ---------------------------------------------------------------------------------------------------------------
# Input validation and limits (no task is created for a refused request)


@pytest.mark.parametrize("path", ["/api/v1/plugins/install/local", "/api/v1/plugins/install/local/preview"])
def test_upload_above_the_limit_is_413(api_client, admin_headers, settings, path):
    settings.PLUGIN_UPLOAD_MAX_BYTES = 1000
    response = api_client.post(path, {"file": upload(PLUGIN_SMOKE)}, format="multipart", **admin_headers)
    assert "limit" in error(response, 413)
    assert not PluginTask.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/plugins/install/local", "/api/v1/plugins/install/local/preview"])
def test_upload_without_file_is_400(api_client, admin_headers, path):
    assert "file" in error(api_client.post(path, {}, format="multipart", **admin_headers), 400)


@pytest.mark.parametrize("body, fragment", [
    ({"owner": "qa", "repo": "x", "release_tag": "v1"}, "asset_url"),
    ({"owner": "qa", "repo": "x", "release_tag": "v1", "asset_url": "not a url"}, "asset_url"),
    ({"owner": "qa", "repo": "x", "release_tag": "v1", "asset_url": "https://evil.example/x.lbpkg"}, "not a GitHub"),
    ({"owner": "qa", "repo": "x", "release_tag": "v1", "asset_url": "https://github.com/a", "extra": 1}, "Unknown"),
])
def test_github_install_validates_its_body(api_client, admin_headers, body, fragment):
    assert fragment in error(api_client.post("/api/v1/plugins/install/github", body, format="json", **admin_headers),
                             400)
    assert not PluginTask.objects.exists()


def test_marketplace_install_needs_a_configured_marketplace(api_client, admin_headers, settings):
    settings.PLUGIN_MARKETPLACE_URL = ""
    body = {"plugin_author": "qa", "plugin_name": "x", "plugin_version": "1.0.0"}
    response = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert "marketplace is not configured" in error(response, 400)


def test_marketplace_install_refuses_path_characters(api_client, admin_headers, settings):
    settings.PLUGIN_MARKETPLACE_URL = "http://127.0.0.1:9"
    body = {"plugin_author": "../admin", "plugin_name": "x", "plugin_version": "1.0.0"}
    response = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert "plugin_author" in error(response, 400)


def test_a_task_is_created_and_queued(api_client, admin_headers):
    task_id = data(api_client.post("/api/v1/plugins/install/local", {"file": upload(PLUGIN_SMOKE)},
                                   format="multipart", **admin_headers))["task_id"]
    task = data(api_client.get(f"/api/v1/system/tasks/{task_id}", **admin_headers))
    assert task["name"] == "plugin-install-local"
    assert task["label"] == "Installing plugin from local qa-plugin-smoke-0.1.0.lbpkg"
    assert (task["task_type"], task["kind"], task["status"], task["progress"]) == ("user", "plugin-operation",
                                                                                 "queued", 0)
    assert task["runtime"] == {"done": False, "state": "PENDING", "exception": None, "exception_traceback": None,
                               "result": None}
    assert task["task_context"]["metadata"]["install_source"] == "local"
    assert isinstance(task["created_at"], int)


# ---------------------------------------------------------------------------------------------------------------
# Scopes


def test_reading_tasks_and_plugins_needs_resource_view_only(api_client, auth_headers):
    headers = auth_headers(["resource.view"])
    assert data(api_client.get("/api/v1/plugins", **headers)) == {"plugins": []}
    assert data(api_client.get("/api/v1/system/tasks", **headers)) == {"tasks": [], "id_index": 0}
    assert error(api_client.get("/api/v1/system/tasks/999", **headers), 404) == "Task not found"
    assert error(api_client.get("/api/v1/system/tasks/abc", **headers), 404) == "Task not found"


def test_plugin_operations_need_resource_manage(api_client, auth_headers):
    headers = auth_headers(["resource.view"])
    response = api_client.post("/api/v1/plugins/install/local", {"file": upload(PLUGIN_SMOKE)}, format="multipart",
                               **headers)
    assert "resource.manage" in error(response, 403) or response.status_code == 403
    assert not PluginTask.objects.exists()


def test_routes_need_credentials(api_client):
    for path in ("/api/v1/plugins", "/api/v1/system/tasks", "/api/v1/system/tasks/1"):
        error(api_client.get(path), 401)
    error(api_client.post("/api/v1/plugins/install/local/preview", {}, format="multipart"), 401)


def test_task_list_filters_by_type_and_kind(api_client, admin_headers):
    task = PluginTask.objects.create(name="plugin-delete", label="Removing plugin a/b")
    headers = admin_headers
    assert [t["id"] for t in data(api_client.get("/api/v1/system/tasks?type=user", **headers))["tasks"]] == [task.pk]
    assert data(api_client.get("/api/v1/system/tasks?type=system", **headers))["tasks"] == []
    assert data(api_client.get("/api/v1/system/tasks?kind=other", **headers))["tasks"] == []
    listed = data(api_client.get("/api/v1/system/tasks?kind=plugin-operation", **headers))
    assert listed["id_index"] == task.pk and listed["tasks"][0]["label"] == "Removing plugin a/b"


def test_unknown_plugin_is_404(api_client, admin_headers):
    assert error(api_client.get("/api/v1/plugins/qa/nothing", **admin_headers), 404) == "plugin not found"
    assert error(api_client.delete("/api/v1/plugins/qa/nothing", **admin_headers), 404) == "plugin not found"
    assert error(api_client.post("/api/v1/plugins/qa/nothing/upgrade", **admin_headers), 404) == "plugin not found"
    assert error(api_client.get("/api/v1/plugins/qa/nothing/config", **admin_headers), 404) == "plugin not found"


# ---------------------------------------------------------------------------------------------------------------
# Config


@pytest.fixture
def configured_plugin(db):
    return Plugin.objects.create(
        author="qa", name="configured", version="1.0.0", source="local",
        config_schema=[
            {"name": "api_key", "type": "secret", "default": ""},
            {"name": "password", "type": "password"},
            {"name": "greeting", "type": "string", "default": "hello"},
        ],
        config={"api_key": "sk-live-123", "password": "hunter2"},
    )


def test_config_masks_secrets_on_read(api_client, auth_headers, configured_plugin):
    config = data(api_client.get("/api/v1/plugins/qa/configured/config", **auth_headers(["resource.view"])))["config"]
    assert config == {"api_key": "***", "password": "***", "greeting": "hello"}


def test_config_written_back_masked_keeps_the_secret(api_client, admin_headers, configured_plugin):
    body = {"api_key": "***", "password": "new-password", "greeting": "hi"}
    config = data(api_client.put("/api/v1/plugins/qa/configured/config", body, format="json", **admin_headers))
    assert config["config"] == {"api_key": "***", "password": "***", "greeting": "hi"}
    configured_plugin.refresh_from_db()
    assert configured_plugin.config == {"api_key": "sk-live-123", "password": "new-password", "greeting": "hi"}
    # LangBot sends the config itself; a {"config": {...}} wrapper is accepted too.
    data(api_client.put("/api/v1/plugins/qa/configured/config", {"config": {"greeting": "yo", "api_key": "***"}},
                        format="json", **admin_headers))
    configured_plugin.refresh_from_db()
    assert configured_plugin.config == {"greeting": "yo", "api_key": "sk-live-123"}


def test_config_write_needs_manage_and_an_object(api_client, auth_headers, configured_plugin):
    response = api_client.put("/api/v1/plugins/qa/configured/config", {"greeting": "x"}, format="json",
                              **auth_headers(["resource.view"]))
    error(response, 403)
    response = api_client.put("/api/v1/plugins/qa/configured/config", ["x"], format="json",
                              **auth_headers(["resource.view", "resource.manage"]))
    assert "object" in error(response, 400)


def test_plugin_list_shows_the_plugin_without_secrets(api_client, admin_headers, configured_plugin):
    plugins = data(api_client.get("/api/v1/plugins", **admin_headers))["plugins"]
    assert [(p["author"], p["name"], p["version"], p["install_source"]) for p in plugins] == [
        ("qa", "configured", "1.0.0", "local")]
    assert "sk-live-123" not in str(plugins) and "hunter2" not in str(plugins)


# ---------------------------------------------------------------------------------------------------------------
# Stale tasks


def test_a_running_task_without_heartbeat_is_failed_and_cleaned_on_read(api_client, admin_headers, settings):
    settings.PLUGIN_TASK_HEARTBEAT_TIMEOUT = 30
    old = timezone.now() - timedelta(seconds=120)
    task = PluginTask.objects.create(name="plugin-install-local", label="x", status="running", heartbeat_at=old,
                                     current_action="installing dependencies")
    fresh = PluginTask.objects.create(name="plugin-install-local", label="y", status="running",
                                      heartbeat_at=timezone.now())
    staging = conf.staging_dir() / f"task-{task.pk}"
    (staging / "plugin").mkdir(parents=True)
    body = data(api_client.get(f"/api/v1/system/tasks/{task.pk}", **admin_headers))
    assert body["status"] == "failed" and body["runtime"]["done"] is True
    assert "worker stopped responding" in body["runtime"]["exception"]
    assert not staging.exists()
    assert data(api_client.get(f"/api/v1/system/tasks/{fresh.pk}", **admin_headers))["status"] == "running"


def test_marketplace_install_of_an_installed_plugin_is_refused_at_once(api_client, admin_headers, settings,
                                                                       configured_plugin):
    settings.PLUGIN_MARKETPLACE_URL = "http://127.0.0.1:9"
    body = {"plugin_author": "qa", "plugin_name": "configured", "plugin_version": "2.0.0"}
    response = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert "already installed" in error(response, 400)
    assert not PluginTask.objects.exists()

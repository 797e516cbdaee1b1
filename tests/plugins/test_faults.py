"""Faults: a worker killed mid-install, a broker that is down, two installs of one plugin at once."""

import os
import threading
from pathlib import Path

import pytest
from django.db import connection

from plugins import conf, services
from plugins.models import Plugin, PluginTask

from .conftest import PLUGIN_SMOKE, build_package, build_wheel, data, upload, wait_for_task, wait_until


def error(response, status):
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    return body["msg"]


# ---------------------------------------------------------------------------------------------------------------
# SIGKILL


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.worker
@pytest.mark.parametrize("stage", ["downloading", "installing dependencies"])
def test_worker_killed_mid_install_leaves_nothing_and_the_task_fails(
        worker_factory, transactional_db, api_client, admin_headers, upstream_settings, settings, tmp_path, stage,
        private_queue):
    doomed = worker_factory(private_queue(f"kill-{stage.split()[0]}"))  # only this worker listens there
    if stage == "downloading":
        # The package itself trickles in (1 KiB per 0.2 s).
        package = build_package(tmp_path, author="qa", name="slow", version="1.0.0", requirements=["lbtestdep"],
                                filename="slow.lbpkg", padding=64 * 1024)
        upstream_settings.add_marketplace("qa", "slow", "1.0.0", package, slow=True)
    else:
        # The package is quick, but its dependency is a wheel that trickles in while pip downloads it.
        wheel = build_wheel(tmp_path, "lbslowdep", "1.0", padding=64 * 1024)
        upstream_settings.add_asset(wheel.name, wheel, slow=True)
        package = build_package(tmp_path, author="qa", name="slow", version="1.0.0", filename="slow.lbpkg",
                                requirements=[f"lbslowdep @ {upstream_settings.url}/download/{wheel.name}"])
        upstream_settings.add_marketplace("qa", "slow", "1.0.0", package)
    body = {"plugin_author": "qa", "plugin_name": "slow", "plugin_version": "1.0.0"}
    task_id = data(api_client.post("/api/v1/plugins/install/marketplace", body, format="json",
                                   **admin_headers))["task_id"]
    staging = conf.staging_dir() / f"task-{task_id}"

    def in_stage():
        task = data(api_client.get(f"/api/v1/system/tasks/{task_id}", **admin_headers))
        meta = task["task_context"]["metadata"]
        if task["task_context"]["current_action"] != stage:
            return False
        if stage == "downloading":
            return meta.get("download_current", 0) > 0
        return any(path.endswith(wheel.name) for path, _ in upstream_settings.requests)  # pip is downloading

    wait_until(in_stage, timeout=60, what=f"the task to be {stage}")
    assert staging.exists()
    doomed.kill()
    # pip dies with its worker, so nothing keeps writing into the staging folder.
    wait_until(lambda: not processes_mentioning(str(staging)), timeout=10, what="pip to exit")

    # The web process notices the silence after the heartbeat timeout (shortened here) and fails the task.
    settings.PLUGIN_TASK_HEARTBEAT_TIMEOUT = 2
    task = wait_for_task(api_client, task_id, admin_headers, timeout=30)
    assert task["status"] == "failed"
    assert task["runtime"]["state"] == "FINISHED"
    assert "worker stopped responding" in task["runtime"]["exception"]
    assert not Plugin.objects.filter(name="slow").exists()
    assert not (conf.plugins_dir() / "qa__slow").exists()
    assert not staging.exists()
    # The plugin is free again: a new install is accepted (not refused as "in progress").
    response = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert response.status_code == 200


def test_a_redelivered_task_is_not_run_twice(transactional_db):
    """After a crash the broker may deliver the message again; a task that already ran (or failed) is left alone."""
    task = PluginTask.objects.create(name="plugin-delete", label="x", status="failed", exception="earlier")
    services.run_task(task.pk)
    task.refresh_from_db()
    assert (task.status, task.exception) == ("failed", "earlier")


# ---------------------------------------------------------------------------------------------------------------
# Broker down


def down_broker(settings, tmp_path, kind):
    if kind == "redis":
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    else:
        # A folder nobody can write to, root included: its parent is a plain file.
        (tmp_path / "not-a-folder").write_text("")
        locked = tmp_path / "not-a-folder" / "queue"
        settings.CELERY_BROKER_URL = "filesystem://"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(locked), "data_folder_out": str(locked)}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["redis", "filesystem"])
def test_broker_down_install_routes_503_and_read_routes_work(api_client, admin_headers, settings, tmp_path, kind,
                                                             upstream_settings):
    plugin = Plugin.objects.create(author="qa", name="present", version="1.0.0", source="local")
    down_broker(settings, tmp_path, kind)
    requests = [
        lambda: api_client.post("/api/v1/plugins/install/local", {"file": upload(PLUGIN_SMOKE)}, format="multipart",
                                **admin_headers),
        lambda: api_client.post("/api/v1/plugins/install/marketplace", {
            "plugin_author": "qa", "plugin_name": "x", "plugin_version": "1.0.0"}, format="json", **admin_headers),
        lambda: api_client.post("/api/v1/plugins/install/github", {
            "owner": "qa", "repo": "x", "release_tag": "v1",
            "asset_url": f"{upstream_settings.url}/repos/qa/x/releases/assets/1"}, format="json", **admin_headers),
        lambda: api_client.post("/api/v1/plugins/qa/present/upgrade", {"file": upload(PLUGIN_SMOKE)},
                                format="multipart", **admin_headers),
        lambda: api_client.delete("/api/v1/plugins/qa/present", **admin_headers),
    ]
    for request in requests:
        assert "task broker unavailable" in error(request(), 503)
    assert not PluginTask.objects.exists()
    assert not list(conf.uploads_dir().glob("*")) if conf.uploads_dir().exists() else True

    for path in ("/api/v1/plugins", "/api/v1/plugins/qa/present", "/api/v1/plugins/qa/present/config",
                 "/api/v1/system/tasks"):
        assert api_client.get(path, **admin_headers).status_code == 200, path
    preview = api_client.post("/api/v1/plugins/install/local/preview", {"file": upload(PLUGIN_SMOKE)},
                              format="multipart", **admin_headers)
    assert preview.status_code == 200
    plugin.refresh_from_db()


def test_a_publish_that_fails_after_commit_fails_the_task(transactional_db, settings):
    task = PluginTask.objects.create(name="plugin-delete", label="x", params={"author": "a", "name": "b"})
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    services.enqueue(task.pk)
    task.refresh_from_db()
    assert task.status == "failed"
    assert task.exception.startswith("task broker unavailable")


# ---------------------------------------------------------------------------------------------------------------
# Two installs of one plugin at once


def test_concurrent_installs_of_one_plugin_end_with_one_plugin(transactional_db, api_client, admin_headers,
                                                               settings, tmp_path, private_queue):
    private_queue("nobody-listens")  # the rows stay queued; two threads run them
    package = build_package(tmp_path, name="raced", version="1.0.0", requirements=["lbtestdep"])
    ids = [data(api_client.post("/api/v1/plugins/install/local", {"file": upload(package)}, format="multipart",
                                **admin_headers))["task_id"] for _ in range(2)]
    start = threading.Barrier(2)
    pip_env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path / "wheels")}
    (tmp_path / "wheels").mkdir()
    build_wheel(tmp_path / "wheels", "lbtestdep", "1.0")
    old_env = {k: os.environ.get(k) for k in pip_env}
    os.environ.update(pip_env)

    def run(task_id):
        try:
            start.wait(timeout=10)
            services.run_task(task_id)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=run, args=(task_id,)) for task_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for key, value in old_env.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)

    tasks = [data(api_client.get(f"/api/v1/system/tasks/{task_id}", **admin_headers)) for task_id in ids]
    assert sorted(t["status"] for t in tasks) == ["failed", "succeeded"], tasks
    loser = next(t for t in tasks if t["status"] == "failed")
    assert ("in progress" in loser["runtime"]["exception"]) or ("already installed" in loser["runtime"]["exception"])
    assert Plugin.objects.filter(name="raced").count() == 1
    folder = conf.plugins_dir() / "tester__raced"
    assert (folder / "manifest.yaml").is_file() and (folder / "deps" / "lbtestdep").is_dir()
    assert [p.name for p in conf.plugins_dir().iterdir()] == ["tester__raced"]
    assert not list(conf.staging_dir().glob("*"))


def test_second_operation_on_a_busy_plugin_is_409(db, api_client, admin_headers, settings):
    settings.PLUGIN_MARKETPLACE_URL = "http://127.0.0.1:9"
    body = {"plugin_author": "qa", "plugin_name": "busy", "plugin_version": "1.0.0"}
    first = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert first.status_code == 200
    second = api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **admin_headers)
    assert "in progress" in error(second, 409)
    assert PluginTask.objects.count() == 1

"""Installs, upgrades and deletes through the API and a real Celery worker process, polled with an API key."""

import pytest

from plugins import conf
from plugins.models import Plugin
from tests.plugins import hostile

from .conftest import FIXTURE_PACKAGES, build_package, data, upload, wait_for_task

pytestmark = pytest.mark.worker


def install_local(api_client, path, headers, name=None):
    response = api_client.post("/api/v1/plugins/install/local", {"file": upload(path, name)}, format="multipart",
                               **headers)
    return data(response)["task_id"]


def install_github(api_client, upstream, owner, repo, package, headers, tag="v0.1.0"):
    asset_id = upstream.add_asset(f"{owner}-{repo}-{tag}-{package.name}", package)
    body = {"owner": owner, "repo": repo, "release_tag": tag,
            "asset_url": f"{upstream.url}/repos/{owner}/{repo}/releases/assets/{asset_id}"}
    return data(api_client.post("/api/v1/plugins/install/github", body, format="json", **headers))["task_id"]


def install_marketplace(api_client, upstream, author, name, version, package, headers):
    upstream.add_marketplace(author, name, version, package)
    body = {"plugin_author": author, "plugin_name": name, "plugin_version": version}
    return data(api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **headers))["task_id"]


def assert_installed(api_client, headers, author, name, version, source):
    plugin = data(api_client.get(f"/api/v1/plugins/{author}/{name}", **headers))["plugin"]
    assert (plugin["version"], plugin["install_source"], plugin["enabled"]) == (version, source, True)
    folder = conf.plugins_dir() / f"{author}__{name}"
    assert (folder / "manifest.yaml").is_file()
    assert not list(conf.staging_dir().glob("*")), "staging folders are cleaned up"
    return plugin


def assert_succeeded(task):
    assert task["status"] == "succeeded", task
    assert task["runtime"] == {**task["runtime"], "state": "FINISHED", "done": True, "exception": None}
    assert task["progress"] == 100
    assert task["task_context"]["current_action"] == "done"
    return task


@pytest.mark.parametrize("plugin_id", sorted(FIXTURE_PACKAGES))
@pytest.mark.parametrize("source", ["local", "github", "marketplace"])
def test_install_fixture_package_from_each_source(worker, api_client, key_headers, upstream_settings, plugin_id,
                                                  source):
    author, name = plugin_id.split("/")
    package = FIXTURE_PACKAGES[plugin_id]
    headers = key_headers["x-api-key"]
    if source == "local":
        task_id = install_local(api_client, package, headers)
    elif source == "github":
        task_id = install_github(api_client, upstream_settings, author, name, package, headers)
    else:
        task_id = install_marketplace(api_client, upstream_settings, author, name, "0.1.0", package, headers)

    task = assert_succeeded(wait_for_task(api_client, task_id, [key_headers["x-api-key"], key_headers["bearer-key"]]))
    meta = task["task_context"]["metadata"]
    assert meta["plugin_name"] == plugin_id
    assert meta["install_source"] == source
    assert meta["download_total"] == meta["download_current"] == package.stat().st_size
    assert (meta["deps_total"], meta["deps_installed"]) == (0, 0)
    for stage in ("verifying", "installing dependencies", "activating"):
        assert f"{stage}..." in task["task_context"]["log"]
    if source != "local":
        assert "downloading..." in task["task_context"]["log"]

    plugin = assert_installed(api_client, headers, author, name, "0.1.0", source)
    assert plugin["label"]["en_US"].startswith("QA ")
    assert sum(plugin["component_counts"].values()) >= 1
    # The stray .pyc of agent-runner is not installed.
    assert not list((conf.plugins_dir() / f"{author}__{name}").rglob("*.pyc"))

    listed = data(api_client.get("/api/v1/system/tasks?kind=plugin-operation&type=user", **key_headers["bearer-key"]))
    assert task_id in [t["id"] for t in listed["tasks"]]
    assert listed["id_index"] >= task_id


def test_installing_an_installed_plugin_fails_and_keeps_the_first(worker, api_client, key_headers):
    headers = key_headers["x-api-key"]
    assert_succeeded(wait_for_task(api_client, install_local(api_client, FIXTURE_PACKAGES["qa/plugin-smoke"], headers),
                                   headers))
    task = wait_for_task(api_client, install_local(api_client, FIXTURE_PACKAGES["qa/plugin-smoke"], headers), headers)
    assert task["status"] == "failed"
    assert "already installed" in task["runtime"]["exception"]
    assert Plugin.objects.filter(author="qa", name="plugin-smoke").count() == 1
    assert_installed(api_client, headers, "qa", "plugin-smoke", "0.1.0", "local")


def test_source_must_match_the_manifest(worker, api_client, key_headers, upstream_settings):
    headers = key_headers["x-api-key"]
    smoke = FIXTURE_PACKAGES["qa/plugin-smoke"]
    market = wait_for_task(api_client, install_marketplace(
        api_client, upstream_settings, "qa", "agent-runner", "0.1.0", smoke, headers), headers)
    github = wait_for_task(api_client, install_github(
        api_client, upstream_settings, "qa", "agent-runner", smoke, headers, tag="mismatch"), headers)
    for task in (market, github):
        assert task["status"] == "failed"
        assert "qa/plugin-smoke" in task["runtime"]["exception"] and "agent-runner" in task["runtime"]["exception"]
    assert not Plugin.objects.exists()
    assert not list(conf.plugins_dir().glob("*")) if conf.plugins_dir().exists() else True


def test_missing_download_fails_the_task(worker, api_client, key_headers, upstream_settings):
    headers = key_headers["x-api-key"]
    body = {"plugin_author": "qa", "plugin_name": "nowhere", "plugin_version": "9.9.9"}
    task_id = data(api_client.post("/api/v1/plugins/install/marketplace", body, format="json", **headers))["task_id"]
    task = wait_for_task(api_client, task_id, headers)
    assert task["status"] == "failed"
    assert "HTTP 404" in task["runtime"]["exception"]


def test_dependencies_are_installed_into_the_plugin_folder(worker, api_client, key_headers, tmp_path):
    headers = key_headers["x-api-key"]
    package = build_package(tmp_path, name="with-deps", requirements=["lbtestdep==1.0  # from the wheelhouse"])
    task = assert_succeeded(wait_for_task(api_client, install_local(api_client, package, headers), headers))
    meta = task["task_context"]["metadata"]
    assert (meta["deps_total"], meta["deps_installed"]) == (1, 1)
    deps = conf.plugins_dir() / "tester__with-deps" / "deps"
    assert (deps / "lbtestdep" / "__init__.py").read_text() == "VERSION = '1.0'\n"


def test_a_dependency_that_cannot_be_installed_fails_the_task(worker, api_client, key_headers, tmp_path):
    headers = key_headers["x-api-key"]
    package = build_package(tmp_path, name="bad-deps", requirements=["lbtestdep==1.0", "lbtest-missing==9.9"])
    task = wait_for_task(api_client, install_local(api_client, package, headers), headers)
    assert task["status"] == "failed"
    assert task["runtime"]["state"] == "FINISHED" and task["runtime"]["done"] is True
    assert "Dependency install failed" in task["runtime"]["exception"]
    assert "lbtest-missing" in task["runtime"]["exception"] + task["task_context"]["log"]
    assert not Plugin.objects.filter(name="bad-deps").exists()
    assert not (conf.plugins_dir() / "tester__bad-deps").exists()
    assert not list(conf.staging_dir().glob("*"))


@pytest.mark.parametrize("builder", [hostile.zip_slip, hostile.bomb, hostile.symlink, hostile.bad_yaml,
                                     hostile.too_many_entries, hostile.encrypted, hostile.missing_manifest])
def test_hostile_archive_fails_the_install_naming_the_rule(worker, api_client, key_headers, tmp_path, builder):
    headers = key_headers["x-api-key"]
    task = wait_for_task(api_client, install_local(api_client, builder(tmp_path), headers), headers)
    assert task["status"] == "failed"
    assert hostile.REFUSALS[builder] in task["runtime"]["exception"]
    assert not Plugin.objects.exists()
    assert not list(conf.staging_dir().glob("*"))


def test_upgrade_from_upload_then_from_same_source_keeps_config(worker, api_client, key_headers, tmp_path):
    headers = key_headers["x-api-key"]
    config = [{"name": "token", "type": "secret", "default": ""}, {"name": "greeting", "type": "string"}]
    v1 = build_package(tmp_path, name="upgradable", version="1.0.0", config=config)
    assert_succeeded(wait_for_task(api_client, install_local(api_client, v1, headers), headers))
    data(api_client.put("/api/v1/plugins/tester/upgradable/config", {"token": "s3cret", "greeting": "hi"},
                        format="json", **headers))

    v2 = build_package(tmp_path, name="upgradable", version="2.0.0", config=config)
    response = api_client.post("/api/v1/plugins/tester/upgradable/upgrade", {"file": upload(v2)}, format="multipart",
                               **headers)
    task = assert_succeeded(wait_for_task(api_client, data(response)["task_id"], key_headers["bearer-key"]))
    assert task["name"] == "plugin-upgrade"
    assert_installed(api_client, headers, "tester", "upgradable", "2.0.0", "local")
    assert "version = '2.0.0'" in (conf.plugins_dir() / "tester__upgradable" / "main.py").read_text()
    assert Plugin.objects.get(name="upgradable").config == {"token": "s3cret", "greeting": "hi"}

    # No file: re-installed from the package it was last installed from.
    response = api_client.post("/api/v1/plugins/tester/upgradable/upgrade", format="json", **headers)
    assert_succeeded(wait_for_task(api_client, data(response)["task_id"], headers))
    assert_installed(api_client, headers, "tester", "upgradable", "2.0.0", "local")

    # A package of another plugin is refused and the installed one is untouched.
    other = build_package(tmp_path, name="someone-else", version="3.0.0")
    response = api_client.post("/api/v1/plugins/tester/upgradable/upgrade", {"file": upload(other)},
                               format="multipart", **headers)
    task = wait_for_task(api_client, data(response)["task_id"], headers)
    assert task["status"] == "failed" and "tester/someone-else" in task["runtime"]["exception"]
    assert_installed(api_client, headers, "tester", "upgradable", "2.0.0", "local")


@pytest.mark.parametrize("source", ["marketplace", "github"])
def test_upgrade_from_the_same_remote_source(worker, api_client, key_headers, upstream_settings, tmp_path, source):
    headers = key_headers["x-api-key"]
    v1 = build_package(tmp_path, author="qa", name="remote-probe", version="1.0.0")
    if source == "marketplace":
        task_id = install_marketplace(api_client, upstream_settings, "qa", "remote-probe", "1.0.0", v1, headers)
    else:
        task_id = install_github(api_client, upstream_settings, "qa", "remote-probe", v1, headers, tag="v1.0.0")
    assert_succeeded(wait_for_task(api_client, task_id, headers))
    # The source now serves a rebuilt package at the same place: upgrading re-installs it from there.
    rebuilt = build_package(tmp_path, author="qa", name="remote-probe", version="1.0.1", filename="rebuilt.lbpkg",
                            requirements=["lbtestdep"])
    if source == "marketplace":
        upstream_settings.add_marketplace("qa", "remote-probe", "1.0.0", rebuilt)
    else:
        upstream_settings.add_asset(f"qa-remote-probe-v1.0.0-{v1.name}", rebuilt)
    task_id = data(api_client.post("/api/v1/plugins/qa/remote-probe/upgrade", format="json", **headers))["task_id"]
    task = assert_succeeded(wait_for_task(api_client, task_id, headers))
    assert task["task_context"]["metadata"]["install_source"] == source
    assert_installed(api_client, headers, "qa", "remote-probe", "1.0.1", source)
    assert (conf.plugins_dir() / "qa__remote-probe" / "deps" / "lbtestdep").is_dir()


@pytest.mark.parametrize("delete_data", [False, True])
def test_delete_removes_files_and_data_only_when_asked(worker, api_client, key_headers, delete_data):
    headers = key_headers["x-api-key"]
    assert_succeeded(wait_for_task(api_client, install_local(api_client, FIXTURE_PACKAGES["qa/agent-runner"],
                                                             headers), headers))
    data_folder = conf.plugin_data_dir() / "qa__agent-runner"
    data_folder.mkdir(parents=True, exist_ok=True)
    (data_folder / "state.json").write_text("{}")

    query = "?delete_data=true" if delete_data else ""
    task_id = data(api_client.delete(f"/api/v1/plugins/qa/agent-runner{query}", **headers))["task_id"]
    task = assert_succeeded(wait_for_task(api_client, task_id, key_headers["bearer-key"]))
    assert task["name"] == "plugin-delete"
    assert api_client.get("/api/v1/plugins/qa/agent-runner", **headers).status_code == 404
    assert not (conf.plugins_dir() / "qa__agent-runner").exists()
    assert data_folder.exists() is (not delete_data)
    if not delete_data:
        import shutil

        shutil.rmtree(data_folder)

"""Plugin operations and the task state machine. Everything that writes plugins or task rows lives here.

A request calls `start_*`, which creates a PluginTask row (queued) and publishes its id once the row is committed.
The worker calls `run_task(id)`: the one wrapper that moves the row to running, runs the operation, and stores the
result or whatever exception ended it.
Stages: downloading -> verifying -> installing dependencies -> activating -> done.

Files: each task works in `staging/task-<id>/`, on the same filesystem as `plugins/`, and the finished plugin folder
is moved into `plugins/<author>__<name>` with one rename, so an install is either absent or complete.
"""

import ctypes
import logging
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import kombu
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import conf, sources
from .models import Plugin, PluginTask, Source, TaskStatus
from .package import PackageError, PluginPackage, extract_package

logger = logging.getLogger("langbot.plugins")

Operation = PluginTask.Operation
SECRET_TYPES = {"secret", "password"}
MASK = "***"
LOG_LIMIT = 64 * 1024
PROGRESS_WRITE_INTERVAL = 0.5  # seconds between progress writes while downloading


class PluginOperationError(Exception):
    """An expected reason for an operation to fail, worded for the person who started it."""


class OperationInProgress(PluginOperationError):
    pass


class BrokerUnavailable(Exception):
    pass


class TaskLost(Exception):
    """The row was finished by someone else (e.g. the stale-task sweep): stop working on it."""


# ---------------------------------------------------------------------------------------------------------------
# Starting operations (web process)


def start_install_local(upload, filename: str) -> PluginTask:
    package_path = _store_upload(upload)
    params = {"source": Source.LOCAL, "package_path": str(package_path), "package_is_temp": True, "filename": filename}
    return _create_task(
        Operation.INSTALL_LOCAL, f"Installing plugin from local {filename}", params, "",
        {"plugin_name": filename}, cleanup=package_path,
    )


def start_install_github(owner: str, repo: str, release_tag: str, asset_url: str) -> PluginTask:
    try:
        sources.check_github_asset_url(owner, repo, asset_url)
    except sources.SourceError as exc:
        raise PluginOperationError(str(exc)) from exc
    info = {"owner": owner, "repo": repo, "release_tag": release_tag, "asset_url": asset_url}
    params = {"source": Source.GITHUB, "url": asset_url, "expected": None, "install_info": info}
    return _create_task(
        Operation.INSTALL_GITHUB, f"Installing plugin from GitHub {owner}/{repo} {release_tag}", params, "",
        {"plugin_name": f"{owner}/{repo}"},
    )


def start_install_marketplace(author: str, name: str, version: str) -> PluginTask:
    try:
        url = sources.marketplace_download_url(author, name, version)
    except sources.SourceError as exc:
        raise PluginOperationError(str(exc)) from exc
    if Plugin.objects.filter(author=author, name=name).exists():
        raise PluginOperationError(f"Plugin {author}/{name} is already installed; upgrade it instead")
    info = {"plugin_author": author, "plugin_name": name, "plugin_version": version}
    params = {"source": Source.MARKETPLACE, "url": url, "expected": [author, name], "install_info": info}
    return _create_task(
        Operation.INSTALL_MARKETPLACE, f"Installing plugin {author}/{name} {version} from the marketplace", params,
        _plugin_key(author, name), {"plugin_name": f"{author}/{name}"},
    )


def start_upgrade(plugin: Plugin, upload=None, filename: str = "") -> PluginTask:
    """Re-install from an uploaded file if given, else from the plugin's own source. Its config is kept."""
    params = {"expected": [plugin.author, plugin.name], "upgrade": True, "install_info": dict(plugin.install_info)}
    cleanup = None
    if upload is not None:
        cleanup = _store_upload(upload)
        params.update(source=Source.LOCAL, package_path=str(cleanup), package_is_temp=True, filename=filename)
        params["install_info"] = {"filename": filename}
    elif plugin.source == Source.LOCAL:
        kept = _kept_package_path(plugin.author, plugin.name)
        if not kept.is_file():
            raise PluginOperationError("This plugin was installed from a file: upload the new package to upgrade it")
        params.update(source=Source.LOCAL, package_path=str(kept), package_is_temp=False,
                      filename=plugin.install_info.get("filename", kept.name))
    else:
        url = plugin.install_info.get("asset_url") if plugin.source == Source.GITHUB else None
        if plugin.source == Source.MARKETPLACE:
            info = plugin.install_info
            try:
                url = sources.marketplace_download_url(
                    info.get("plugin_author", plugin.author), info.get("plugin_name", plugin.name),
                    info.get("plugin_version", plugin.version))
            except sources.SourceError as exc:
                raise PluginOperationError(str(exc)) from exc
        if not url:
            raise PluginOperationError("This plugin's source is unknown: upload a package to upgrade it")
        params.update(source=plugin.source, url=url)
    return _create_task(
        Operation.UPGRADE, f"Upgrading plugin {plugin.author}/{plugin.name}", params,
        _plugin_key(plugin.author, plugin.name), {"plugin_name": f"{plugin.author}/{plugin.name}"}, cleanup=cleanup,
    )


def start_delete(plugin: Plugin, delete_data: bool) -> PluginTask:
    params = {"author": plugin.author, "name": plugin.name, "delete_data": bool(delete_data)}
    return _create_task(
        Operation.DELETE, f"Removing plugin {plugin.author}/{plugin.name}", params,
        _plugin_key(plugin.author, plugin.name), {"plugin_name": f"{plugin.author}/{plugin.name}"},
    )


def _plugin_key(author: str, name: str) -> str:
    return f"{author}/{name}"


def _store_upload(upload) -> Path:
    folder = conf.uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{uuid.uuid4().hex}.lbpkg"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def _kept_package_path(author: str, name: str) -> Path:
    return conf.uploads_dir() / f"{author}__{name}.lbpkg"


def _create_task(operation, label, params, plugin_key, metadata, cleanup: Path | None = None) -> PluginTask:
    """Row first, publish on commit. The broker is checked up front so a dead broker costs no row."""
    try:
        ensure_broker_available()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    task = PluginTask.objects.create(
                        name=operation, label=label, params=params, plugin_key=plugin_key,
                        metadata={"install_source": params.get("source", ""), **metadata},
                    )
            except IntegrityError as exc:
                raise OperationInProgress(f"Another operation on plugin {plugin_key} is in progress") from exc
            transaction.on_commit(lambda: enqueue(task.pk))
    except BaseException:
        if cleanup is not None:
            cleanup.unlink(missing_ok=True)
        raise
    task.refresh_from_db()
    if task.status == TaskStatus.FAILED and task.exception.startswith("task broker unavailable"):
        raise BrokerUnavailable(task.exception)
    return task


def _broker_connection() -> kombu.Connection:
    # Read from Django settings at call time (not the Celery app's cached config) so the check follows the settings.
    return kombu.Connection(
        settings.CELERY_BROKER_URL,
        transport_options=dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}),
        connect_timeout=2,
    )


def ensure_broker_available() -> None:
    """A short reachability check. The folder broker needs its folder writable; Redis must answer within ~2 s."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    try:
        if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
            folder = Path(options.get("data_folder_in", ""))
            if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
                raise OSError(f"broker folder {folder} is missing or not writable")
            return
        with _broker_connection() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        logger.error("Task broker unavailable: %s", exc)
        raise BrokerUnavailable(f"task broker unavailable: {exc}") from exc


def enqueue(task_id: int) -> None:
    """Publish the task id. If publishing fails the row is failed at once, so it never waits forever as queued."""
    from .tasks import run_plugin_task

    try:
        with _broker_connection() as connection:
            producer = kombu.Producer(connection)
            run_plugin_task.apply_async(
                (task_id,), producer=producer, queue=conf.task_queue(), retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
            )
    except Exception as exc:
        logger.error("Could not publish plugin task %s: %s", task_id, exc)
        _fail(task_id, f"task broker unavailable: {exc}", "", only_if_active=True)
        _cleanup_task_files(task_id)


# ---------------------------------------------------------------------------------------------------------------
# Running operations (worker process)


@dataclass
class Progress:
    """Writes stage, log and metadata to the task row; every write is also the heartbeat."""

    task_id: int
    metadata: dict
    log_lines: list = field(default_factory=list)
    action: str = ""
    _last_write: float = 0.0

    def stage(self, action: str):
        self.action = action
        self.log(action if action == "done" else f"{action}...")

    def log(self, line: str):
        logger.info("task %s: %s", self.task_id, line)
        self.log_lines.append(line)
        self.write()

    def update(self, throttle: bool = False, **metadata):
        self.metadata.update(metadata)
        if not throttle or time.monotonic() - self._last_write >= PROGRESS_WRITE_INTERVAL:
            self.write()

    def write(self):
        text = "\n".join(self.log_lines)[-LOG_LIMIT:]
        updated = PluginTask.objects.filter(pk=self.task_id, status=TaskStatus.RUNNING).update(
            current_action=self.action, log=text, metadata=self.metadata, heartbeat_at=timezone.now()
        )
        self._last_write = time.monotonic()
        if not updated:
            raise TaskLost(f"task {self.task_id} is no longer running")


def run_task(task_id: int) -> None:
    """The one wrapper: claim the row, run its operation, store the result or the exception. Never raises."""
    fail_stale_tasks()
    claimed = PluginTask.objects.filter(pk=task_id, status=TaskStatus.QUEUED).update(
        status=TaskStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), current_action="starting"
    )
    if not claimed:
        # Already finished, or started by a worker that died (the sweep fails those): a redelivery must not re-run it.
        logger.warning("Plugin task %s is not queued; ignoring this delivery", task_id)
        return
    task = PluginTask.objects.get(pk=task_id)
    progress = Progress(task_id, dict(task.metadata))
    try:
        result = OPERATIONS[task.name](task, progress)
        progress.stage("done")
    except TaskLost as exc:
        logger.warning("%s", exc)
        _cleanup_task_files(task_id)
    except BaseException as exc:  # noqa: B036 - the wrapper stores every failure, then lets fatal ones through
        message = describe_failure(exc)
        try:
            progress.log(f"failed: {message}")
        except Exception:  # noqa: BLE001 - the failure itself must still be recorded below
            pass
        expected = isinstance(exc, (PluginOperationError, PackageError, sources.SourceError))
        # Files first, status last: whoever sees the task done sees a clean staging area.
        _cleanup_task_files(task_id)
        _fail(task_id, message, "" if expected else "".join(traceback.format_exception(exc)))
        if not isinstance(exc, Exception):
            raise
    else:
        _cleanup_task_files(task_id)
        PluginTask.objects.filter(pk=task_id, status=TaskStatus.RUNNING).update(
            status=TaskStatus.SUCCEEDED, result=result, finished_at=timezone.now()
        )


def describe_failure(exc: BaseException) -> str:
    """The sentence stored as the task's exception: expected failures as they are, a refused package with its rule."""
    if isinstance(exc, PackageError):
        return package_refusal(exc)
    if isinstance(exc, (PluginOperationError, sources.SourceError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def package_refusal(exc: PackageError) -> str:
    return f"Package refused ({exc.rule}): {exc}"


def _fail(task_id: int, message: str, tb: str, only_if_active: bool = True):
    statuses = [TaskStatus.QUEUED, TaskStatus.RUNNING] if only_if_active else list(TaskStatus)
    PluginTask.objects.filter(pk=task_id, status__in=statuses).update(
        status=TaskStatus.FAILED, exception=message, exception_traceback=tb, finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def _cleanup_task_files(task_id: int) -> None:
    task = PluginTask.objects.filter(pk=task_id).first()
    shutil.rmtree(_staging_for(task_id), ignore_errors=True)
    if task and task.params.get("package_is_temp") and task.params.get("package_path"):
        Path(task.params["package_path"]).unlink(missing_ok=True)


def _staging_for(task_id: int) -> Path:
    return conf.staging_dir() / f"task-{task_id}"


def fail_stale_tasks() -> int:
    """Running tasks whose worker stopped reporting (killed, OOM, host lost) are failed and their files cleaned."""
    cutoff = timezone.now() - timedelta(seconds=conf.heartbeat_timeout())
    stale_ids = list(PluginTask.objects.filter(status=TaskStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
        "pk", flat=True))
    failed = 0
    for task_id in stale_ids:
        failed += PluginTask.objects.filter(pk=task_id, status=TaskStatus.RUNNING, heartbeat_at__lt=cutoff).update(
            status=TaskStatus.FAILED, finished_at=timezone.now(),
            exception=(f"The worker stopped responding (no heartbeat for over {conf.heartbeat_timeout():g}s; it was "
                       "probably killed or restarted). Its unfinished work was discarded; start the operation again."),
        )
        _cleanup_task_files(task_id)
    return failed


def _obtain_package(task: PluginTask, progress: Progress, staging: Path) -> Path:
    params = task.params
    if params["source"] == Source.LOCAL:
        path = Path(params["package_path"])
        if not path.is_file():
            raise PluginOperationError("The uploaded package is gone (was the task started twice?)")
        size = path.stat().st_size
        progress.update(download_total=size, download_current=size)
        return path
    progress.stage("downloading")
    target = staging / "package.lbpkg"
    headers = sources.github_headers() if params["source"] == Source.GITHUB else {}
    progress.log(f"GET {params['url']}")

    def report(current, total):
        progress.update(throttle=current not in (0, total), download_current=current, download_total=total or 0)

    size = sources.download(params["url"], target, headers=headers, on_progress=report)
    progress.update(download_current=size, download_total=size)
    progress.log(f"downloaded {size} bytes")
    return target


def _install(task: PluginTask, progress: Progress) -> dict:
    params = task.params
    upgrade = bool(params.get("upgrade"))
    staging = _staging_for(task.pk)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    PluginTask.objects.filter(pk=task.pk).update(staging_path=str(staging))

    package_file = _obtain_package(task, progress, staging)
    progress.stage("verifying")
    package = extract_package(package_file, staging / "plugin")
    progress.update(plugin_name=f"{package.author}/{package.name}")
    progress.log(f"package {package.author}/{package.name} {package.version}: {package.file_count} files")
    expected = params.get("expected")
    if expected and [package.author, package.name] != list(expected):
        raise PluginOperationError(
            f"The package is {package.author}/{package.name}, but {expected[0]}/{expected[1]} was requested")
    if params["source"] == Source.GITHUB and not expected:
        _check_github_match(package, params["install_info"]["owner"], params["install_info"]["repo"])
    _take_plugin_lock(task, package)
    exists = Plugin.objects.filter(author=package.author, name=package.name).exists()
    if exists and not upgrade:
        raise PluginOperationError(
            f"Plugin {package.author}/{package.name} is already installed; upgrade it instead")
    if upgrade and not exists:
        raise PluginOperationError(f"Plugin {package.author}/{package.name} is not installed")

    progress.stage("installing dependencies")
    install_requirements(package.requirements, staging / "plugin" / "deps", progress)

    progress.stage("activating")
    plugin = _activate(package, staging, params, upgrade)
    if params["source"] == Source.LOCAL and params.get("package_is_temp"):
        os.replace(package_file, _kept_package_path(plugin.author, plugin.name))  # what a later upgrade reuses
    progress.log(f"{'upgraded' if upgrade else 'installed'} {plugin.author}/{plugin.name} {plugin.version}")
    return {"plugin": {"author": plugin.author, "name": plugin.name, "version": plugin.version}}


def _check_github_match(package: PluginPackage, owner: str, repo: str) -> None:
    """A release asset must be the plugin of that repository: author/name equal owner/repo, or the manifest's
    `repository` is that GitHub repository."""
    if package.author.lower() == owner.lower() and package.name.lower() == repo.lower():
        return
    repository = urlsplit(package.repository or "")
    path = repository.path.strip("/").removesuffix(".git").lower()
    if repository.hostname in ("github.com", "www.github.com") and path == f"{owner}/{repo}".lower():
        return
    raise PluginOperationError(
        f"The package is {package.author}/{package.name} (repository {package.repository or 'not given'}), "
        f"which does not match the requested GitHub repository {owner}/{repo}")


def _take_plugin_lock(task: PluginTask, package: PluginPackage) -> None:
    """Local installs learn their plugin only now; the partial unique constraint makes this the per-plugin lock."""
    key = _plugin_key(package.author, package.name)
    if task.plugin_key == key:
        return
    try:
        with transaction.atomic():
            PluginTask.objects.filter(pk=task.pk).update(plugin_key=key)
    except IntegrityError as exc:
        raise OperationInProgress(f"Another operation on plugin {key} is in progress") from exc
    task.plugin_key = key


def _activate(package: PluginPackage, staging: Path, params: dict, upgrade: bool) -> Plugin:
    """Row and folder change together: the row is written first, the folder moved last, then the commit."""
    final = conf.plugins_dir() / f"{package.author}__{package.name}"
    final.parent.mkdir(parents=True, exist_ok=True)
    new_folder = staging / "plugin"
    fields = _plugin_fields(package, params)
    with transaction.atomic():
        if upgrade:
            plugin = Plugin.objects.select_for_update().get(author=package.author, name=package.name)
            for name, value in fields.items():
                setattr(plugin, name, value)
            plugin.save()
            if final.exists():
                _swap_folders(new_folder, final)  # the old version ends up in staging and is removed with it
            else:
                os.replace(new_folder, final)
        else:
            try:
                with transaction.atomic():
                    plugin = Plugin.objects.create(author=package.author, name=package.name, **fields)
            except IntegrityError as exc:
                raise PluginOperationError(f"Plugin {package.author}/{package.name} is already installed") from exc
            if final.exists():
                # A folder without a row: left by a crash between the move and the commit. Not a plugin; replace it.
                os.replace(final, staging / "orphan")
            os.replace(new_folder, final)
    return plugin


def _plugin_fields(package: PluginPackage, params: dict) -> dict:
    info = dict(params.get("install_info") or {})
    if params["source"] == Source.LOCAL:
        info.setdefault("filename", params.get("filename", ""))
    return {
        "version": str(package.version),
        "label": _jsonable(package.label),
        "description": _jsonable(package.description),
        "icon": str(package.icon or ""),
        "repository": str(package.repository or ""),
        "manifest": _jsonable(package.manifest),
        "components": _jsonable(package.components),
        "component_counts": _jsonable(package.component_counts),
        "config_schema": _jsonable(package.config_schema),
        "source": params["source"],
        "install_info": info,
    }


def _jsonable(value):
    import json

    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap_folders(a: Path, b: Path) -> None:
    """Exchange two folders in one step (Linux renameat2); elsewhere two renames, with a tiny window between them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if result == 0:
            return
    except (AttributeError, OSError):
        pass
    aside = a.parent / f"{a.name}.old"
    os.replace(b, aside)
    os.replace(a, b)
    os.replace(aside, a)


def _die_with_parent():
    """Runs in the pip child: if the worker is killed, pip is killed too and stops writing into the staging folder."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL (Linux)
    except (AttributeError, OSError):
        pass


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def install_requirements(requirements: list[str], target: Path, progress: Progress) -> None:
    """pip install --target <plugin>/deps with this interpreter; any failure (or the timeout) fails the operation."""
    requirements = [r.strip() for r in requirements or [] if r.strip() and not r.strip().startswith("#")]
    progress.update(deps_total=len(requirements), deps_installed=0, current_dep="")
    if not requirements:
        progress.log("no dependencies")
        return
    for requirement in requirements:
        # Options (-r, -e, --index-url ...) could read other files or switch indexes: packages name packages only.
        if requirement.startswith("-"):
            raise PluginOperationError(f"requirements.txt may not contain pip options: {requirement!r}")
    names = [(_REQUIREMENT_NAME.match(r).group(1) if _REQUIREMENT_NAME.match(r) else r).lower() for r in requirements]
    command = [
        sys.executable, "-m", "pip", "install", "--target", str(target), "--no-input", "--disable-pip-version-check",
        "--no-warn-script-location", "--progress-bar", "off", "--", *requirements,
    ]
    progress.log(f"pip install {' '.join(requirements)}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    deadline = time.monotonic() + conf.pip_timeout()
    seen = []
    try:
        while True:
            try:
                line = lines.get(timeout=1.0).rstrip()
            except queue.Empty:
                if process.poll() is not None and not reader.is_alive() and lines.empty():
                    break
                if time.monotonic() > deadline:
                    message = f"Dependency install timed out after {conf.pip_timeout():g}s"
                    raise PluginOperationError(message) from None
                progress.write()  # heartbeat while pip is quiet
                continue
            progress.log_lines.append(f"pip: {line}")
            match = re.match(r"Collecting ([A-Za-z0-9._-]+)", line)
            if match:
                dep = match.group(1).lower()
                if dep in names and dep not in seen:
                    seen.append(dep)
                    progress.update(current_dep=dep, deps_installed=len(seen) - 1)
                    continue
            progress.write() if time.monotonic() - progress._last_write > PROGRESS_WRITE_INTERVAL else None
        code = process.wait(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:
        tail = [line for line in progress.log_lines[-8:] if line.startswith("pip: ")]
        raise PluginOperationError(
            f"Dependency install failed (pip exit code {code}): " + " | ".join(t[5:] for t in tail[-3:]))
    progress.update(deps_installed=len(requirements), current_dep="")
    progress.log(f"installed {len(requirements)} dependencies")


def _delete(task: PluginTask, progress: Progress) -> dict:
    params = task.params
    author, name = params["author"], params["name"]
    progress.stage("removing")
    staging = _staging_for(task.pk)
    staging.mkdir(parents=True, exist_ok=True)
    final = conf.plugins_dir() / f"{author}__{name}"
    with transaction.atomic():
        deleted, _ = Plugin.objects.filter(author=author, name=name).delete()
        if not deleted:
            raise PluginOperationError(f"Plugin {author}/{name} is not installed")
        if final.exists():
            os.replace(final, staging / "removed")  # removed with the staging folder once the row is gone
    _kept_package_path(author, name).unlink(missing_ok=True)
    data_removed = False
    if params.get("delete_data"):
        shutil.rmtree(conf.plugin_data_dir() / f"{author}__{name}", ignore_errors=True)
        data_removed = True
    progress.log(f"removed {author}/{name}" + (" and its data" if data_removed else ""))
    return {"plugin": {"author": author, "name": name}, "data_removed": data_removed}


OPERATIONS = {
    Operation.INSTALL_LOCAL: _install,
    Operation.INSTALL_GITHUB: _install,
    Operation.INSTALL_MARKETPLACE: _install,
    Operation.UPGRADE: _install,
    Operation.DELETE: _delete,
}


# ---------------------------------------------------------------------------------------------------------------
# Config


def is_secret_item(item: dict) -> bool:
    return str(item.get("type", "")).lower() in SECRET_TYPES


def secret_names(plugin: Plugin) -> set:
    return {item.get("name") for item in plugin.config_schema or [] if isinstance(item, dict) and is_secret_item(item)}


def masked_config(plugin: Plugin) -> dict:
    secrets = secret_names(plugin)
    config = _effective_config(plugin)
    return {key: (MASK if key in secrets and value not in (None, "") else value) for key, value in config.items()}


def _effective_config(plugin: Plugin) -> dict:
    """Defaults from the schema, overlaid with what was saved."""
    defaults = {
        item["name"]: item.get("default")
        for item in plugin.config_schema or []
        if isinstance(item, dict) and item.get("name")
    }
    return {**defaults, **(plugin.config or {})}


def update_config(plugin: Plugin, new_config: dict) -> Plugin:
    """A secret sent back as "***" keeps its stored value; anything else is stored as given."""
    if not isinstance(new_config, dict):
        raise PluginOperationError("config must be an object")
    secrets = secret_names(plugin)
    current = _effective_config(plugin)
    merged = {}
    for key, value in new_config.items():
        merged[key] = current.get(key) if key in secrets and value == MASK else value
    plugin.config = merged
    plugin.save(update_fields=["config", "updated_at"])
    return plugin


def set_enabled(plugin: Plugin, enabled: bool) -> Plugin:
    plugin.enabled = enabled
    plugin.save(update_fields=["enabled", "updated_at"])
    return plugin

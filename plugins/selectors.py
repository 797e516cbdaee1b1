"""Reads: plugins, tasks, and the JSON shapes of the Service API (LangBot's task object)."""

from . import conf
from .models import Plugin, PluginTask, TaskStatus


def list_plugins():
    return Plugin.objects.all()


def get_plugin(author: str, name: str) -> Plugin | None:
    if "\x00" in author or "\x00" in name:
        return None  # cannot exist, and PostgreSQL refuses NUL in a query
    return Plugin.objects.filter(author=author, name=name).first()


def list_tasks(task_type: str | None = None, kind: str | None = None):
    tasks = PluginTask.objects.all()
    if task_type:
        tasks = tasks.filter(task_type=task_type)
    if kind:
        tasks = tasks.filter(kind=kind)
    return tasks.order_by("-id")[: conf.task_list_limit()]


def last_task_id() -> int:
    return PluginTask.objects.order_by("-id").values_list("id", flat=True).first() or 0


def get_task(task_id) -> PluginTask | None:
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        return None
    if not 0 < task_id < 2**63:
        return None  # out of the id column's range: cannot exist
    return PluginTask.objects.filter(pk=task_id).first()


# Where each stage starts and ends on the 0..100 bar; downloading and dependencies fill their span as they go.
STAGE_SPANS = {
    "starting": (0, 5),
    "downloading": (5, 40),
    "verifying": (40, 45),
    "installing dependencies": (45, 85),
    "activating": (85, 95),
    "removing": (10, 90),
    "done": (100, 100),
}


def task_progress(task: PluginTask) -> int:
    if task.status == TaskStatus.SUCCEEDED:
        return 100
    if task.status == TaskStatus.QUEUED:
        return 0
    start, end = STAGE_SPANS.get(task.current_action, (0, 0))
    meta = task.metadata or {}
    fraction = 0.0
    if task.current_action == "downloading" and meta.get("download_total"):
        fraction = min(1.0, meta.get("download_current", 0) / meta["download_total"])
    elif task.current_action == "installing dependencies" and meta.get("deps_total"):
        fraction = min(1.0, meta.get("deps_installed", 0) / meta["deps_total"])
    return int(start + (end - start) * fraction)


def task_json(task: PluginTask) -> dict:
    """LangBot's task object, plus `status` and `progress` (beyond LangBot)."""
    return {
        "id": task.pk,
        "task_type": task.task_type,
        "kind": task.kind,
        "name": task.name,
        "label": task.label,
        "created_at": int(task.created_at.timestamp()),
        "task_context": {"current_action": task.current_action, "log": task.log, "metadata": task.metadata or {}},
        "runtime": {
            "done": task.done,
            # LangBot's asyncio states: PENDING until done, then FINISHED (a failure is FINISHED with an exception).
            "state": "FINISHED" if task.done else "PENDING",
            "exception": task.exception or None,
            "exception_traceback": task.exception_traceback or None,
            "result": task.result,
        },
        "status": task.status,
        "progress": task_progress(task),
    }


def plugin_json(plugin: Plugin) -> dict:
    return {
        "author": plugin.author,
        "name": plugin.name,
        "version": plugin.version,
        "label": plugin.label,
        "description": plugin.description,
        "icon": plugin.icon,
        "repository": plugin.repository,
        "enabled": plugin.enabled,
        "install_source": plugin.source,
        "install_info": plugin.install_info,
        "components": plugin.components,
        "component_counts": plugin.component_counts,
        "config_schema": plugin.config_schema,
        "manifest": plugin.manifest,
        "created_at": plugin.created_at.isoformat(),
        "updated_at": plugin.updated_at.isoformat(),
    }


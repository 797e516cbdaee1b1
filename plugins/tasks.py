"""Celery entry points. Thin on purpose: the state machine is services.run_task."""

from celery import shared_task
from celery.signals import worker_ready

from . import services


@shared_task(name="plugins.run_plugin_task", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_plugin_task(task_id: int) -> None:
    services.run_task(task_id)


@worker_ready.connect
def fail_tasks_left_by_a_dead_worker(**kwargs):
    services.fail_stale_tasks()

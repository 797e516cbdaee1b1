"""Is each dependency reachable? Used by /healthz and by routes that need the broker."""

import logging

from django.db import connections

from .celery import app as celery_app

logger = logging.getLogger("langbot.health")


def database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:  # any failure means "not usable", whatever the driver raises
        logger.warning("Database check failed: %s", exc)
        return False


def broker_ok(timeout: float = 2.0) -> bool:
    """One connection attempt, no retries: a caller waiting on this should get an answer within `timeout`."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=timeout)
        return True
    except Exception as exc:
        logger.warning("Broker check failed: %s", exc)
        return False

"""The folder broker under concurrent publishers and a polling consumer: every message arrives, whole, once."""

import threading

from django.conf import settings
from kombu import Connection

from langbot_site.celery import app as celery_app


def test_concurrent_publish_and_consume_loses_nothing(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": 0.01,
               "control_folder": str(tmp_path / "control")}
    publishers, per_publisher = 4, 150
    expected = {f"{p}-{i}" for p in range(publishers) for i in range(per_publisher)}
    received: list[str] = []

    def publish(p):
        with Connection("filesystem://", transport="langbot_site.broker:Transport", transport_options=options) as conn:
            queue = conn.SimpleQueue("stress")
            for i in range(per_publisher):
                queue.put({"id": f"{p}-{i}", "padding": "x" * 4096})
            queue.close()

    errors: list[BaseException] = []

    def publish_reporting(p):
        try:
            publish(p)
        except BaseException as exc:  # a publisher that dies must fail the test, not just stop sending
            errors.append(exc)

    threads = [threading.Thread(target=publish_reporting, args=(p,)) for p in range(publishers)]
    with Connection("filesystem://", transport="langbot_site.broker:Transport", transport_options=options) as conn:
        # The consumer declares the queue first, as a Celery worker does when it starts.
        queue = conn.SimpleQueue("stress")
        for thread in threads:
            thread.start()
        while len(received) < len(expected):
            assert not errors, errors
            message = queue.get(timeout=20)
            assert message.payload["padding"] == "x" * 4096
            received.append(message.payload["id"])
            message.ack()
        queue.close()
    for thread in threads:
        thread.join()
    assert sorted(received) == sorted(expected)


def test_celery_uses_the_safe_transport_without_redis():
    if settings.REDIS_URL:
        assert celery_app.conf.broker_url.startswith("redis://")
    else:
        with celery_app.connection_for_write() as conn:
            assert type(conn.transport).__module__ == "langbot_site.broker"

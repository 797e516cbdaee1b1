"""/healthz reports the database and the broker, for load balancers: 200 when both answer, 503 otherwise."""

import time

import pytest

from langbot_site.celery import app as celery_app


@pytest.fixture
def broker_down():
    """Point the broker at a port where nothing listens (what a stopped Redis looks like)."""
    original = celery_app.conf.broker_url, celery_app.conf.broker_transport
    celery_app.conf.broker_url, celery_app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    yield
    celery_app.conf.broker_url, celery_app.conf.broker_transport = original


def test_healthy(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_broker_down_is_503_quickly(client, db, broker_down):
    started = time.monotonic()
    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer whatever")  # no auth needed, none checked
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}
    assert time.monotonic() - started < 10  # answers, does not hang on retries

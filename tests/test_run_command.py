"""`make run`'s script on the embedded default, as a new user runs it: web + worker, keys in both header styles, and
Ctrl-C stops everything."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def running_product(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), DATA_DIR=str(tmp_path / "data"), BIND="127.0.0.1", WEB_WORKERS="1", WORKER_CONCURRENCY="1")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return httpx.get(base + "/api/v1/system/info", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 60, "the web server")
        wait_until(lambda: "ready" in log.read_text(), 60, "the Celery worker")
        yield base, process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_run_serves_the_api_with_a_worker_and_stops_on_ctrl_c(running_product):
    base, process, log = running_product
    http = httpx.Client(base_url=base, timeout=10)
    assert http.post("/api/v1/user/init", json={"user": "me@example.com", "password": "a-long-passphrase"}).json()["code"] == 0
    token = http.post("/api/v1/user/auth", json={"user": "me@example.com", "password": "a-long-passphrase"}).json()["data"]["token"]
    created = http.post("/api/v1/apikeys", json={"name": "curl"}, headers={"Authorization": f"Bearer {token}"}).json()
    secret, key_id = created["data"]["key"]["key"], created["data"]["key"]["id"]

    assert http.get("/api/v1/apikeys", headers={"X-API-Key": secret}).json()["code"] == 0
    assert http.get("/api/v1/apikeys", headers={"Authorization": f"Bearer {secret}"}).json()["code"] == 0
    assert http.delete(f"/api/v1/apikeys/{key_id}", headers={"X-API-Key": secret}).json()["code"] == 0
    revoked = http.get("/api/v1/apikeys", headers={"X-API-Key": secret})
    assert revoked.status_code == 401 and revoked.json() == {"code": -1, "msg": "Invalid API key"}
    assert http.get("/").status_code in (200, 302)
    assert http.get("/static/admin/css/base.css").status_code == 200

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    process.wait(timeout=30)
    assert secret not in log.read_text()

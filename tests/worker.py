"""A real Celery worker process for end-to-end tests anywhere in the suite (plugins, the admin walk): a private
plugin home and task queue shared with the worker through the environment, a wheelhouse so dependency installs need
no network, and the worker itself, pointed at this test run's database, data folder and broker.

The fixtures are registered in tests/conftest.py; tests/plugins/conftest.py re-exports the helpers it always had."""

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

# ---------------------------------------------------------------------------------------------------------------
# Where plugins go and which queue their tasks use: private to this test process, shared with its workers.


@pytest.fixture(scope="session")
def plugin_home(tmp_path_factory):
    """PLUGIN_HOME and PLUGIN_TASK_QUEUE through the environment, so the worker processes read the same values.
    Autouse for tests/plugins (through its clean_plugin_home); elsewhere requested by the worker fixtures."""
    home = tmp_path_factory.mktemp("plugin-home")
    old = {k: os.environ.get(k) for k in ("PLUGIN_HOME", "PLUGIN_TASK_QUEUE")}
    os.environ["PLUGIN_HOME"] = str(home)
    os.environ["PLUGIN_TASK_QUEUE"] = f"langbot-test-plugins-{os.getpid()}"
    yield home
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def empty_plugin_home(home: Path) -> None:
    """Remove every plugin folder, so a test starts like its database: without plugins."""
    for sub in ("plugins", "plugin-data", "plugin-staging", "plugin-uploads"):
        shutil.rmtree(Path(home) / sub, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Wheels built on the spot


def build_wheel(folder: Path, name: str, version: str, padding: int = 0) -> Path:
    """A minimal pure-Python wheel, so dependency installs need no network (pip --no-index --find-links).
    `padding` adds random bytes, to make a slow download last."""
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{name}-{version}.dist-info/WHEEL":
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if padding:
        files[f"{name}/blob.bin"] = os.urandom(padding)
    record_lines = []
    for member, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record_lines.append(f"{member},sha256={digest},{len(content)}")
    record = f"{name}-{version}.dist-info/RECORD"
    record_lines.append(f"{record},,")
    path = Path(folder) / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for member, content in files.items():
            zf.writestr(member, content)
        zf.writestr(record, "\n".join(record_lines) + "\n")
    return path


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheelhouse")
    build_wheel(folder, "lbtestdep", "1.0")
    return folder


# ---------------------------------------------------------------------------------------------------------------
# A real Celery worker


def worker_database_url() -> str:
    """The test database pytest-django created, as a DATABASE_URL for another process."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    from urllib.parse import quote

    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


class Worker:
    def __init__(self, queue: str, log_path: Path, wheelhouse: Path):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "langbot_site.settings.test",
            "DATABASE_URL": worker_database_url(),
            "DATA_DIR": str(settings.DATA_DIR),
            "REDIS_URL": settings.REDIS_URL or "",
            "PLUGIN_TASK_QUEUE": queue,
            # Dependencies come from a folder of wheels built by the tests, never from the network.
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
            "PIP_NO_CACHE_DIR": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.queue = queue
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        celery = Path(sys.executable).parent / "celery"
        self.process = subprocess.Popen(
            [str(celery), "-A", "langbot_site", "worker", "--pool=solo", "-Q", queue, "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h"],
            cwd=settings.BASE_DIR, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()}")

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log_file.close()


@pytest.fixture(scope="session")
def worker_factory(django_db_setup, django_db_blocker, wheelhouse, tmp_path_factory, plugin_home):
    """start(queue) -> a running Worker; all are stopped at the end of the session."""
    started = []
    logs = tmp_path_factory.mktemp("worker-logs")

    def start(queue: str) -> Worker:
        with django_db_blocker.unblock():
            worker = Worker(queue, logs / f"{queue}-{len(started)}.log", wheelhouse)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        purge_queue(worker.queue)


@pytest.fixture(scope="session")
def session_worker(worker_factory):
    return worker_factory(os.environ["PLUGIN_TASK_QUEUE"])


@pytest.fixture
def worker(session_worker, transactional_db):
    """A live worker on this process's plugin queue; rows are committed so it sees them."""
    if session_worker.process.poll() is not None:
        pytest.fail(f"the worker died:\n{session_worker.log()[-4000:]}")
    return session_worker


def purge_queue(name: str) -> None:
    """Forget a per-test-run queue: its messages, and in Redis its binding keys and unacked messages (a killed
    worker's), so a broker shared by many test runs does not collect junk."""
    import kombu

    with kombu.Connection(settings.CELERY_BROKER_URL,
                          transport_options=dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS or {})) as connection:
        try:
            connection.default_channel.queue_purge(name)
        except Exception:  # noqa: BLE001 - the queue may never have been declared
            pass
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def private_queue(settings):
    """private_queue(suffix) -> a queue name for this test's tasks (PLUGIN_TASK_QUEUE), purged afterwards."""
    names = []

    def _queue(suffix: str) -> str:
        name = f"langbot-test-{suffix}-{os.getpid()}"
        settings.PLUGIN_TASK_QUEUE = name
        names.append(name)
        return name

    yield _queue
    for name in names:
        purge_queue(name)



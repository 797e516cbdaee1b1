"""Plugin test fixtures: a private plugin home, fake GitHub/marketplace servers, package and wheel builders, and a
real Celery worker process that shares this test run's database, data folder and broker."""

import base64
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.conftest import headers_for

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "plugins"
AGENT_RUNNER = FIXTURES / "qa-agent-runner-0.1.0.lbpkg"
PLUGIN_SMOKE = FIXTURES / "qa-plugin-smoke-0.1.0.lbpkg"
FIXTURE_PACKAGES = {"qa/agent-runner": AGENT_RUNNER, "qa/plugin-smoke": PLUGIN_SMOKE}
TASK_TIMEOUT = 90  # generous: a cold worker plus pip can take a while on a busy machine


# ---------------------------------------------------------------------------------------------------------------
# Where plugins go and which queue their tasks use: private to this test process, shared with its workers.


@pytest.fixture(scope="session", autouse=True)
def plugin_home(tmp_path_factory):
    """PLUGIN_HOME and PLUGIN_TASK_QUEUE through the environment, so the worker processes read the same values."""
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


@pytest.fixture(autouse=True)
def clean_plugin_home(plugin_home):
    """Every test starts without plugin folders, like its database starts without plugin rows."""
    for sub in ("plugins", "plugin-data", "plugin-staging", "plugin-uploads"):
        shutil.rmtree(plugin_home / sub, ignore_errors=True)
    return plugin_home


# ---------------------------------------------------------------------------------------------------------------
# Packages and wheels built on the spot


def build_package(folder: Path, author="tester", name="probe", version="1.0.0", requirements=None, config=None,
                  filename=None, padding: int = 0) -> Path:
    """A valid package; `padding` adds that many random (incompressible) bytes, for slow downloads."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Plugin",
        "metadata": {
            "author": author, "name": name, "version": version, "label": {"en_US": f"Probe {name}"},
            "description": {"en_US": "A package built by the test suite"}, "icon": "icon.svg",
        },
        "spec": {"config": config or [], "components": {}},
        "execution": {"python": {"path": "main.py", "attr": "Probe"}},
    }
    path = Path(folder) / (filename or f"{author}-{name}-{version}.lbpkg")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.yaml", yaml.safe_dump(manifest))
        zf.writestr("main.py", f"class Probe:\n    version = {version!r}\n")
        zf.writestr("icon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
        if padding:
            zf.writestr("assets/padding.bin", os.urandom(padding))
        if requirements is not None:
            zf.writestr("requirements.txt", "\n".join(requirements) + "\n")
    return path


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
# Fake upstreams: a GitHub-like release API and a LangBot-like marketplace on 127.0.0.1


class FakeUpstream:
    """Serves packages the tests register. GitHub: /repos/<o>/<r>/releases/assets/<id> redirects to /download/<id>
    (like GitHub's asset API); marketplace: /api/v1/marketplace/plugins/download/<author>/<name>/<version>."""

    def __init__(self):
        self.assets = {}  # id -> bytes
        self.marketplace = {}  # (author, name, version) -> bytes
        self.slow = set()  # asset ids / marketplace keys served slowly (1 KiB per 0.2 s)
        self.requests = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                upstream.requests.append((self.path, dict(self.headers)))
                parts = self.path.strip("/").split("/")
                if len(parts) == 5 and parts[0] == "repos" and parts[3:4] == ["releases"] or (
                        len(parts) == 6 and parts[0] == "repos" and parts[3:5] == ["releases", "assets"]):
                    asset_id = parts[-1]
                    if self.headers.get("Accept") != "application/octet-stream":
                        return self._send(200, json.dumps({"id": asset_id}).encode(), "application/json")
                    if asset_id not in upstream.assets:
                        return self._send(404, b'{"message":"Not Found"}', "application/json")
                    self.send_response(302)
                    self.send_header("Location", f"/download/{asset_id}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if parts[0] == "download" and len(parts) == 2 and parts[1] in upstream.assets:
                    return self._send(200, upstream.assets[parts[1]], slow=parts[1] in upstream.slow)
                if parts[:5] == ["api", "v1", "marketplace", "plugins", "download"] and len(parts) == 8:
                    key = tuple(parts[5:8])
                    if key in upstream.marketplace:
                        return self._send(200, upstream.marketplace[key], slow=key in upstream.slow)
                return self._send(404, b'{"code":-1,"msg":"not found"}', "application/json")

            def _send(self, code, body, content_type="application/octet-stream", slow=False):
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if not slow:
                        self.wfile.write(body)
                        return
                    for start in range(0, len(body), 1024):
                        self.wfile.write(body[start:start + 1024])
                        self.wfile.flush()
                        time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_asset(self, asset_id: str, package: Path, slow=False) -> str:
        self.assets[asset_id] = Path(package).read_bytes()
        if slow:
            self.slow.add(asset_id)
        return asset_id

    def add_marketplace(self, author, name, version, package: Path, slow=False):
        key = (author, name, version)
        self.marketplace[key] = Path(package).read_bytes()
        if slow:
            self.slow.add(key)


@pytest.fixture(scope="session")
def upstream():
    fake = FakeUpstream()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def upstream_settings(settings, upstream):
    """The web process trusts the fake GitHub host and uses the fake marketplace (the worker gets URLs in the task)."""
    settings.PLUGIN_GITHUB_ASSET_HOSTS = ["127.0.0.1"]
    settings.PLUGIN_MARKETPLACE_URL = upstream.url
    return upstream


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


# ---------------------------------------------------------------------------------------------------------------
# Calling the API


@pytest.fixture
def key_headers(issue_key):
    """Both key headers for one key holding every scope: tests alternate them when polling."""
    secret = issue_key()
    return {"x-api-key": headers_for("x-api-key", secret), "bearer-key": headers_for("bearer-key", secret)}


def upload(path: Path, name: str | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name or Path(path).name, Path(path).read_bytes(), content_type="application/zip")


def data(response) -> dict:
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0, (response.status_code, body)
    return body["data"]


def wait_for_task(api_client, task_id, headers, timeout=TASK_TIMEOUT) -> dict:
    """Poll GET /system/tasks/<id> until done; `headers` may be a list to alternate (e.g. both key headers)."""
    header_cycle = headers if isinstance(headers, list) else [headers]
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        response = api_client.get(f"/api/v1/system/tasks/{task_id}", **header_cycle[polls % len(header_cycle)])
        task = data(response)
        polls += 1
        if task["runtime"]["done"]:
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} not done after {timeout}s: {json.dumps(task)[:2000]}")
        time.sleep(0.1)


def wait_until(predicate, timeout=TASK_TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def zip_bytes(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()

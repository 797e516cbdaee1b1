"""Plugin test fixtures: a private plugin home, fake GitHub/marketplace servers, package and wheel builders, and a
real Celery worker process that shares this test run's database, data folder and broker."""

import io
import json
import os
import time
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.conftest import headers_for
from tests.fake_http import local_server, serving
# The worker machinery lives in tests/worker.py (its fixtures are registered by tests/conftest.py), so that tests
# outside this folder can use a real worker too; these names stay importable from here.
from tests.worker import (  # noqa: F401
    Worker,
    build_wheel,
    empty_plugin_home,
    purge_queue,
    worker_database_url,
)

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "plugins"
AGENT_RUNNER = FIXTURES / "qa-agent-runner-0.1.0.lbpkg"
PLUGIN_SMOKE = FIXTURES / "qa-plugin-smoke-0.1.0.lbpkg"
FIXTURE_PACKAGES = {"qa/agent-runner": AGENT_RUNNER, "qa/plugin-smoke": PLUGIN_SMOKE}
TASK_TIMEOUT = 90  # generous: a cold worker plus pip can take a while on a busy machine


# ---------------------------------------------------------------------------------------------------------------
# Where plugins go (plugin_home, from tests/worker.py): every test here gets it, empty.


@pytest.fixture(autouse=True)
def clean_plugin_home(plugin_home):
    """Every test starts without plugin folders, like its database starts without plugin rows."""
    empty_plugin_home(plugin_home)
    return plugin_home


# ---------------------------------------------------------------------------------------------------------------
# Packages built on the spot (wheels: tests/worker.py)


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

        self.server = local_server(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

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
    with serving(fake.server):
        yield fake


@pytest.fixture
def upstream_settings(settings, upstream):
    """The web process trusts the fake GitHub host and uses the fake marketplace (the worker gets URLs in the task)."""
    settings.PLUGIN_GITHUB_ASSET_HOSTS = ["127.0.0.1"]
    settings.PLUGIN_MARKETPLACE_URL = upstream.url
    return upstream


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

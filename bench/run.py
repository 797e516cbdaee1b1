"""Reproducible benchmarks: `make bench` (see bench/README.md).

Starts the product in production mode (gunicorn + a Celery worker) on free ports against a fresh database, seeds it
through the public API, and measures with wrk. Writes bench/results/<date>.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
FIXTURE = ROOT.parent / "shared" / "fixtures" / "plugins" / "qa-plugin-smoke-0.1.0.lbpkg"
LIST_PATH = "/api/v1/provider/models/llm"
PASSWORD = "bench-passphrase-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def fresh_postgres_url(url: str) -> str:
    """A new, empty database beside the one named in `url`, so the bench never touches real data."""
    import psycopg

    name = f"langbot_bench_{os.getpid()}"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Product:
    """The product in production mode, in its own DATA_DIR and database."""

    def __init__(self, database_url: str | None, redis_url: str | None, workdir: Path):
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.env.update(
            DJANGO_SETTINGS_MODULE="langbot_site.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            SECURE_SSL_REDIRECT="0",
            SECURE_COOKIES="0",
            ALLOWED_HOSTS="*",
            DATA_DIR=str(workdir / "data"),
            STATIC_ROOT=str(workdir / "static"),
            LOG_LEVEL="WARNING",
            LOGIN_RATE_PER_IP="100000/min",
            LOGIN_RATE_PER_USER="100000/min",
        )
        if database_url:
            self.env["DATABASE_URL"] = database_url
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True)

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")

    def start_web(self, workers: int, threads: int) -> None:
        self.stop_web()
        log = open(self.workdir / f"gunicorn-{workers}.log", "ab")
        self.web = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "langbot_site.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(lambda: httpx.get(self.url + "/healthz", timeout=2).status_code == 200, 60, "gunicorn")

    def start_worker(self) -> None:
        log = open(self.workdir / "worker.log", "ab")
        self.worker = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "langbot_site", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        time.sleep(3)

    def stop_web(self) -> None:
        stop(self.web)
        self.web = None

    def stop(self) -> None:
        self.stop_web()
        stop(self.worker)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


class Client:
    """The Service API as any LangBot client sees it (so the same code seeds a LangBot peer)."""

    def __init__(self, url: str, headers: dict | None = None):
        self.http = httpx.Client(base_url=url, timeout=60, headers=headers or {})

    def call(self, method: str, path: str, **kwargs):
        response = self.http.request(method, path, **kwargs)
        body = response.json()
        if response.status_code != 200 or body.get("code") != 0:
            raise SystemExit(f"{method} {path} -> {response.status_code} {body}")
        return body["data"]

    def login(self) -> tuple[str, str]:
        """Initialise the first admin; return (user token, API key with every scope)."""
        self.call("POST", "/api/v1/user/init", json={"user": "bench@example.com", "password": PASSWORD})
        token = self.call("POST", "/api/v1/user/auth", json={"user": "bench@example.com", "password": PASSWORD})["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        key = self.call("POST", "/api/v1/apikeys", json={"name": "bench"})["key"]["key"]
        return token, key

    def seed_models(self, count: int, provider_uuid: str | None = None) -> str:
        if provider_uuid is None:
            provider_uuid = self.call("POST", "/api/v1/provider/providers", json={
                "name": "bench", "requester": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1",
                "api_keys": ["sk-bench-0000"]})["uuid"]
        for i in range(count):
            self.call("POST", LIST_PATH, json={"name": f"model-{i:04d}-{secrets.token_hex(3)}", "provider_uuid": provider_uuid,
                                               "abilities": ["func_call"], "context_length": 8192, "extra_args": {}})
        return provider_uuid

    def model_uuids(self) -> list[str]:
        return [m["uuid"] for m in self.call("GET", LIST_PATH)["models"]]


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")


def parse_latency(text: str, pct: str) -> float:
    match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, header: str, connections: int, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-H", header, url],
        capture_output=True, text=True, check=True,
    ).stdout
    socket_errors = WRK_SOCKET.search(out)
    return {
        "requests": int(WRK_TOTAL.search(out).group(1)),
        "rps": float(WRK_RPS.search(out).group(1)),
        "p50_ms": parse_latency(out, "50"),
        "p99_ms": parse_latency(out, "99"),
        "non_2xx": int(WRK_NON2XX.search(out).group(1)) if WRK_NON2XX.search(out) else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


QUERY_COUNT_SCRIPT = """
import django, json, sys
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
client.get(sys.argv[1], HTTP_X_API_KEY=sys.argv[2])  # warm: last_used_at write, caches
with CaptureQueriesContext(connection) as queries:
    response = client.get(sys.argv[1], HTTP_X_API_KEY=sys.argv[2])
assert response.status_code == 200, response.content
print(json.dumps({"queries": len(queries), "models": len(response.json()["data"]["models"])}))
"""


def count_queries(product: Product, key: str) -> dict:
    out = subprocess.run([str(VENV_BIN / "python"), "-c", QUERY_COUNT_SCRIPT, LIST_PATH, key], cwd=ROOT, env=product.env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bulk_keys_seconds(product: Product, count: int = 10_000) -> float:
    target = product.workdir / "bulk-keys.csv"
    started = time.perf_counter()
    product.manage("create_api_keys", "--count", str(count), "--name-prefix", "bulk", "--output", str(target))
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def plugin_install_latencies(client: Client, runs: int) -> list[float]:
    """POST install → task done, then delete (not timed) so the next install starts from scratch."""
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        with FIXTURE.open("rb") as package:
            task_id = client.call("POST", "/api/v1/plugins/install/local", files={"file": (FIXTURE.name, package)})["task_id"]
        task = wait_task(client, task_id)
        latencies.append((time.perf_counter() - started) * 1000)
        if task["runtime"]["exception"]:
            raise SystemExit(f"plugin install failed: {task['runtime']['exception']}")
        plugin = task["runtime"]["result"]["plugin"]
        author, name = plugin["author"], plugin["name"]
        wait_task(client, client.call("DELETE", f"/api/v1/plugins/{author}/{name}")["task_id"])
    return latencies


def wait_task(client: Client, task_id) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        task = client.call("GET", f"/api/v1/system/tasks/{task_id}")
        if task["runtime"]["done"]:
            return task
        time.sleep(0.02)
    raise SystemExit(f"task {task_id} did not finish")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


LANGBOT = "langbot==4.11.2"
LANGBOT_VENV = ROOT / "bench" / ".langbot-venv"


@contextmanager
def langbot_running(workdir: Path, models: int):
    """LangBot itself, as a user would install it (its own virtualenv, SQLite, port 5300), seeded alike."""
    if not (LANGBOT_VENV / "bin" / "langbot").exists():
        print(f"Installing {LANGBOT} into {LANGBOT_VENV.relative_to(ROOT)} (once)…", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(LANGBOT_VENV)], check=True)
        subprocess.run([str(LANGBOT_VENV / "bin" / "pip"), "install", "-q", LANGBOT], check=True)
    url = "http://127.0.0.1:5300"
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 5300)) == 0:
            raise SystemExit("port 5300 is taken: LangBot needs it for --with-langbot")
    home = workdir / "langbot"
    home.mkdir()
    log = open(workdir / "langbot.log", "ab")
    process = subprocess.Popen([str(LANGBOT_VENV / "bin" / "langbot")], cwd=home, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_for(lambda: httpx.get(url + "/api/v1/system/info", timeout=2).status_code == 200, 180, "LangBot")
        _, key = Client(url).login()
        Client(url, {"X-API-Key": key}).seed_models(models)
        yield url, key
    finally:
        stop(process)


@contextmanager
def product_running(args, workdir: Path):
    database_url = fresh_postgres_url(args.database_url) if args.database_url else None
    product = Product(database_url, args.redis_url, workdir)
    try:
        product.prepare()
        yield product
    finally:
        product.stop()
        if database_url:
            drop_postgres(database_url)


def run(args) -> dict:
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "database": "postgresql" if args.database_url else "sqlite",
        "broker": "redis" if args.redis_url else "filesystem",
        "connections": args.connections,
        "seconds": args.seconds,
    }
    workdir = Path(tempfile.mkdtemp(prefix="langbot-bench-"))
    try:
        with product_running(args, workdir) as product:
            product.start_web(workers=1, threads=args.threads)
            client = Client(product.url)
            token, key = client.login()
            keyed = Client(product.url, {"X-API-Key": key})

            # Queries per request must not grow with the number of rows.
            provider = keyed.seed_models(10)
            at_10 = count_queries(product, key)
            keyed.seed_models(990, provider)
            at_1000 = count_queries(product, key)
            results["queries_per_request"] = {"10_models": at_10["queries"], "1000_models": at_1000["queries"]}
            for model_uuid in keyed.model_uuids()[args.models:]:
                keyed.call("DELETE", f"{LIST_PATH}/{model_uuid}")
            results["models_listed"] = len(keyed.model_uuids())

            url = product.url + LIST_PATH
            headers = {"x-api-key": f"X-API-Key: {key}", "bearer-key": f"Authorization: Bearer {key}",
                       "bearer-jwt": f"Authorization: Bearer {token}"}
            results["read_1_web_process"] = {kind: wrk(url, h, args.connections, args.seconds) for kind, h in headers.items()}
            product.start_web(workers=2, threads=args.threads)
            results["read_2_web_processes"] = {"x-api-key": wrk(url, headers["x-api-key"], args.connections, args.seconds)}
            results["scaling_ratio_2_vs_1"] = round(
                results["read_2_web_processes"]["x-api-key"]["rps"] / results["read_1_web_process"]["x-api-key"]["rps"], 2)

            results["bulk_10000_keys_seconds"] = round(bulk_keys_seconds(product), 2)

            if not args.skip_plugins:
                product.start_worker()
                latencies = plugin_install_latencies(keyed, args.plugin_runs)
                results["plugin_install_ms"] = {"runs": len(latencies), "median": round(statistics.median(latencies)),
                                                "p95": round(percentile(latencies, 95))}

        if args.with_langbot:
            with langbot_running(workdir, args.models) as (url, key):
                results["peer"] = measure_peer(url, key, "LangBot 4.11.2", results, args)
        elif args.peer:
            results["peer"] = measure_peer(args.peer, args.peer_key, args.peer, results, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def measure_peer(url: str, key: str, label: str, results: dict, args) -> dict:
    peer = wrk(url.rstrip("/") + LIST_PATH, f"X-API-Key: {key}", args.connections, args.seconds)
    ours = results["read_1_web_process"]["x-api-key"]
    return {"label": label, "x-api-key": peer,
            "throughput_ratio": round(ours["rps"] / peer["rps"], 1) if peer["rps"] else None,
            "p99_ratio": round(peer["p99_ms"] / ours["p99_ms"], 1) if ours["p99_ms"] else None}


def markdown(results: dict) -> str:
    lines = [f"### Benchmark {results['date']} — {results['database']} + {results['broker']} broker, "
             f"{results['machine']['cpus']} CPUs, {results['connections']} connections × {results['seconds']} s, "
             f"{results.get('models_listed')} models",
             "", "| workload | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|"]
    rows = [(f"GET {LIST_PATH}, 1 web process, {kind}", r) for kind, r in results["read_1_web_process"].items()]
    rows += [(f"GET {LIST_PATH}, 2 web processes, {kind}", r) for kind, r in results["read_2_web_processes"].items()]
    if "peer" in results:
        rows.append((f"{results['peer']['label']}, 1 process, x-api-key", results["peer"]["x-api-key"]))
    for label, r in rows:
        lines.append(f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx'] + r['socket_errors']} |")
    lines += ["", "| measure | value |", "|---|---:|",
              f"| scaling, 2 web processes / 1 | {results['scaling_ratio_2_vs_1']}× |",
              f"| SQL queries per list request, 10 models | {results['queries_per_request']['10_models']} |",
              f"| SQL queries per list request, 1,000 models | {results['queries_per_request']['1000_models']} |",
              f"| create 10,000 keys (bulk command, wall) | {results['bulk_10000_keys_seconds']} s |"]
    if "plugin_install_ms" in results:
        p = results["plugin_install_ms"]
        lines.append(f"| plugin install, POST → done, median / p95 ({p['runs']} runs) | {p['median']} / {p['p95']} ms |")
    if "peer" in results:
        lines.append(f"| throughput vs peer | {results['peer']['throughput_ratio']}× |")
        lines.append(f"| p99 latency, peer / ours | {results['peer']['p99_ratio']}× |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="PostgreSQL server to use (a fresh database is created beside it); default SQLite")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), help="Redis broker; default folder broker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 4)))
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--plugin-runs", type=int, default=20)
    parser.add_argument("--skip-plugins", action="store_true")
    parser.add_argument("--peer", help="base URL of another Service API server (e.g. LangBot) to measure alike")
    parser.add_argument("--peer-key", help="an API key of the peer")
    parser.add_argument("--with-langbot", action="store_true",
                        help=f"install {LANGBOT} in bench/.langbot-venv, start it on :5300, seed it alike, measure it")
    args = parser.parse_args()
    if bool(args.peer) != bool(args.peer_key):
        parser.error("--peer and --peer-key go together")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")

    results = run(args)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S")
    path = out_dir / f"{stamp}-{results['database']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nResults written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Load and soak test: `make soak` (see bench/README.md).

50 connections for 60 s of mixed reads and writes, all authenticated with API keys, against the product started in
production mode (gunicorn + Celery worker). Passes only with 0 transport errors, 0 5xx, 0 authentication failures, and
final row counts equal to the writes the server acknowledged (nothing lost, nothing doubled).
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import FIXTURE, LIST_PATH, Client, product_running  # noqa: E402


class Ledger:
    """What the server acknowledged, kept by the clients, to compare with what the database holds at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.models: set[str] = set()
        self.keys: dict[int, str] = {}  # id -> status
        self.plugin_tasks: list = []
        self.statuses: Counter = Counter()
        self.errors: list[str] = []

    def record(self, operation: str, response: httpx.Response | None, error: str | None = None) -> dict | None:
        with self.lock:
            if error is not None:
                self.errors.append(f"{operation}: {error}")
                self.statuses["transport-error"] += 1
                return None
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 or response.status_code in (401,):
                self.errors.append(f"{operation}: {response.status_code} {response.text[:200]}")
        if response.status_code == 200:
            data = response.json()["data"]
            return {} if data is None else data  # acknowledged, even when there is nothing to return
        return None


def worker(base_url: str, key: str, provider_uuid: str, ledger: Ledger, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    http = httpx.Client(base_url=base_url, timeout=30, headers={"X-API-Key": key} if seed % 2 else {"Authorization": f"Bearer {key}"})
    mine: list[str] = []
    my_keys: list[int] = []

    def call(operation, method, path, **kwargs):
        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            return ledger.record(operation, None, repr(exc))
        return ledger.record(operation, response)

    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.55:
            call("list models", "GET", LIST_PATH)
        elif roll < 0.70:
            data = call("create model", "POST", LIST_PATH, json={
                "name": f"soak-{secrets.token_hex(6)}", "provider_uuid": provider_uuid, "abilities": ["vision"]})
            if data:
                with ledger.lock:
                    ledger.models.add(data["uuid"])
                mine.append(data["uuid"])
        elif roll < 0.78 and mine:
            call("update model", "PUT", f"{LIST_PATH}/{rng.choice(mine)}", json={
                "name": f"soak-upd-{secrets.token_hex(6)}", "provider_uuid": provider_uuid, "context_length": 4096})
        elif roll < 0.85 and mine:
            model_uuid = mine.pop(rng.randrange(len(mine)))
            if call("delete model", "DELETE", f"{LIST_PATH}/{model_uuid}") is not None:
                with ledger.lock:
                    ledger.models.discard(model_uuid)
        elif roll < 0.92:
            data = call("create key", "POST", "/api/v1/apikeys", json={"name": f"soak-{seed}", "scopes": ["resource.view"]})
            if data:
                with ledger.lock:
                    ledger.keys[data["key"]["id"]] = "active"
                my_keys.append(data["key"]["id"])
        elif roll < 0.97 and my_keys:
            key_id = my_keys.pop()
            if call("revoke key", "DELETE", f"/api/v1/apikeys/{key_id}") is not None:
                with ledger.lock:
                    ledger.keys[key_id] = "revoked"
        elif roll >= 0.995:
            with FIXTURE.open("rb") as package:
                data = call("install plugin", "POST", "/api/v1/plugins/install/local", files={"file": (FIXTURE.name, package)})
            if data:
                with ledger.lock:
                    ledger.plugin_tasks.append(data["task_id"])
        else:
            call("list keys", "GET", "/api/v1/apikeys")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a fresh database is created beside it)")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="langbot-soak-"))
    ledger = Ledger()
    try:
        with product_running(args, workdir) as product:
            product.start_web(workers=args.web_workers, threads=args.threads)
            product.start_worker()
            admin = Client(product.url)
            admin.login()
            key = admin.call("POST", "/api/v1/apikeys", json={"name": "soak-driver"})["key"]["key"]
            keyed = Client(product.url, {"X-API-Key": key})
            provider_uuid = keyed.seed_models(20)
            with ledger.lock:
                ledger.models.update(keyed.model_uuids())
            keys_before = {k["id"]: k["status"] for k in keyed.call("GET", "/api/v1/apikeys")["keys"]}

            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=worker, args=(product.url, key, provider_uuid, ledger, deadline, n))
                       for n in range(args.connections)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started

            # Plugin tasks run on: wait for them, then read the final state through the API.
            finished = Counter()
            deadline = time.monotonic() + 180  # for all of them together: a stuck task must not stall the report
            for task_id in ledger.plugin_tasks:
                while time.monotonic() < deadline:
                    task = keyed.call("GET", f"/api/v1/system/tasks/{task_id}")
                    if task["runtime"]["done"]:
                        finished["failed" if task["runtime"]["exception"] else "succeeded"] += 1
                        break
                    time.sleep(0.2)
                else:
                    finished["stuck"] += 1
            final_models = set(keyed.model_uuids())
            final_keys = {k["id"]: k["status"] for k in keyed.call("GET", "/api/v1/apikeys")["keys"]}
            plugins = keyed.call("GET", "/api/v1/plugins")["plugins"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    expected_keys = {**keys_before, **ledger.keys}
    total = sum(ledger.statuses.values())
    checks = {
        "transport errors": ledger.statuses["transport-error"] == 0,
        "5xx responses": not any(isinstance(s, int) and s >= 500 for s in ledger.statuses),
        "authentication failures (401)": ledger.statuses[401] == 0,
        "models: database == acknowledged writes": final_models == ledger.models,
        "keys: database == acknowledged writes": final_keys == expected_keys,
        "plugin tasks all finished": finished["stuck"] == 0,
        "at most one copy of the plugin": len(plugins) <= 1,
    }
    print(f"### Soak: {args.connections} connections × {args.seconds} s ({elapsed:.0f} s measured), "
          f"{'PostgreSQL' if args.database_url else 'SQLite'} + {'Redis' if args.redis_url else 'folder'} broker\n")
    print("| measure | value |\n|---|---:|")
    print(f"| requests | {total} ({total / elapsed:.0f}/s) |")
    for status, count in sorted(ledger.statuses.items(), key=str):
        print(f"| status {status} | {count} |")
    print(f"| models acknowledged / in database | {len(ledger.models)} / {len(final_models)} |")
    print(f"| keys acknowledged / in database | {len(expected_keys)} / {len(final_keys)} |")
    print(f"| plugin installs accepted | {len(ledger.plugin_tasks)} ({dict(finished)}) |")
    print("\n| check | result |\n|---|---|")
    for name, ok in checks.items():
        print(f"| {name} | {'pass' if ok else 'FAIL'} |")
    for error in ledger.errors[:20]:
        print("error:", error)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()

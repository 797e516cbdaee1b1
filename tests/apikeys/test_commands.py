"""create_api_keys (bulk, one transaction, secrets written once) and revoke_api_keys."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from apikeys.models import APIKey
from apikeys.secrets import hash_secret
from tests.conftest import headers_for


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ten_thousand_keys_in_one_run(db, api_client):
    out, _ = run("create_api_keys", "--count", "10000", "--name-prefix", "fleet", "--scopes", "resource.view")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10000
    assert set(rows[0]) == {"name", "id", "prefix", "key", "scopes", "expires_at"}
    assert rows[0]["name"] == "fleet-00001" and rows[-1]["name"] == "fleet-10000"
    assert len({r["key"] for r in rows}) == 10000
    stored = dict(APIKey.objects.values_list("key_hash", "id"))
    assert len(stored) == 10000
    assert all(stored[hash_secret(r["key"])] == int(r["id"]) for r in rows)
    assert all(r["key"].startswith(r["prefix"]) for r in rows)
    # Any of them authenticates, with the scopes asked for.
    sample = rows[4321]["key"]
    assert api_client.get("/api/v1/system/info", **headers_for("x-api-key", sample)).status_code == 200
    assert api_client.get("/api/v1/apikeys", **headers_for("x-api-key", sample)).status_code == 403


def test_json_to_a_file_with_expiry(db, tmp_path, admin_user):
    target = tmp_path / "keys.json"
    _, err = run("create_api_keys", "--count", "3", "--name-prefix", "ci", "--expires-in", "30d", "--format", "json",
                 "--output", str(target), "--owner", "admin@example.com")
    rows = json.loads(target.read_text())
    assert [r["name"] for r in rows] == ["ci-00001", "ci-00002", "ci-00003"]
    assert all(r["expires_at"] for r in rows)
    assert "Created 3 API keys" in err and rows[0]["key"] not in err
    assert set(APIKey.objects.values_list("created_by", flat=True)) == {admin_user.pk}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--count", "0", "--name-prefix", "x"], "--count"),
        (["--count", "5", "--name-prefix", "  "], "name"),
        (["--count", "5", "--name-prefix", "x", "--scopes", "resource.view,god.mode"], "god.mode"),
        (["--count", "5", "--name-prefix", "x", "--expires-in", "soon"], "--expires-in"),
        (["--count", "5", "--name-prefix", "x", "--expires-in", "0d"], "--expires-in"),
        (["--count", "5", "--name-prefix", "x", "--owner", "ghost@example.com"], "ghost@example.com"),
        (["--count", "5", "--name-prefix", "x", "--output", "/nonexistent-dir/keys.csv"], "Cannot write"),
    ],
)
def test_bad_arguments_fail_clearly_and_create_nothing(db, args, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        run("create_api_keys", *args)
    assert not APIKey.objects.exists()


def test_existing_output_file_is_not_overwritten(db, tmp_path):
    target = tmp_path / "keys.csv"
    target.write_text("precious")
    with pytest.raises(CommandError, match="Cannot write"):
        run("create_api_keys", "--count", "2", "--name-prefix", "x", "--output", str(target))
    assert target.read_text() == "precious" and not APIKey.objects.exists()


def test_revoke_by_prefix_and_by_ids(db, api_client):
    out, _ = run("create_api_keys", "--count", "4", "--name-prefix", "batch")
    rows = list(csv.DictReader(io.StringIO(out)))
    run("create_api_keys", "--count", "1", "--name-prefix", "other")

    out, _ = run("revoke_api_keys", "--ids", f"{rows[0]['id']},{rows[1]['id']}")
    assert "Revoked 2" in out
    out, _ = run("revoke_api_keys", "--name-prefix", "batch")
    assert "Revoked 2" in out  # the two still active
    assert APIKey.objects.filter(status="revoked").count() == 4
    assert APIKey.objects.get(name="other-00001").status == "active"
    assert api_client.get("/api/v1/system/info", **headers_for("x-api-key", rows[3]["key"])).status_code == 200
    assert api_client.get("/api/v1/apikeys", **headers_for("x-api-key", rows[3]["key"])).status_code == 401

    with pytest.raises(CommandError, match="No API key with id"):
        run("revoke_api_keys", "--ids", "424242")
    with pytest.raises(CommandError, match="integers"):
        run("revoke_api_keys", "--ids", "a,b")
    with pytest.raises(CommandError, match="must not be empty"):
        run("revoke_api_keys", "--name-prefix", "")

"""Provider keys at rest (encrypted, rotatable) and in logs (never)."""

import json
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from providers import crypto
from providers.models import Provider

KEY = "sk-proj-SECRETSECRETSECRET0001"


def _raw_column(provider) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT encrypted_api_keys FROM {Provider._meta.db_table} WHERE uuid = %s",
                       [provider.pk.hex if connection.vendor == "sqlite" else provider.pk])
        return cursor.fetchone()[0]


def test_keys_are_encrypted_at_rest(make_provider):
    provider = make_provider(api_keys=[KEY])
    raw = _raw_column(provider)
    assert raw and KEY not in raw and "SECRET" not in raw
    assert Provider.objects.get(pk=provider.pk).api_keys == [KEY]


def test_the_key_is_derived_from_secret_key_by_default(make_provider, settings):
    provider = make_provider(api_keys=[KEY])
    settings.SECRET_KEY = "another-secret-key-entirely-0123456789"
    with pytest.raises(crypto.SecretsUnreadable):
        Provider.objects.get(pk=provider.pk).api_keys


def test_rotation_with_provider_secret_keys(make_provider, settings):
    settings.PROVIDER_SECRET_KEYS = ["old-key-material"]
    provider = make_provider(api_keys=[KEY])
    before = _raw_column(provider)

    settings.PROVIDER_SECRET_KEYS = ["new-key-material", "old-key-material"]  # first encrypts, all decrypt
    assert Provider.objects.get(pk=provider.pk).api_keys == [KEY]
    call_command("rotate_provider_secrets", stdout=open("/dev/null", "w"))
    assert _raw_column(provider) != before

    settings.PROVIDER_SECRET_KEYS = ["new-key-material"]  # the old key can go now
    assert Provider.objects.get(pk=provider.pk).api_keys == [KEY]


def test_rotation_refuses_when_no_listed_key_can_read(make_provider, settings):
    settings.PROVIDER_SECRET_KEYS = ["old-key-material"]
    provider = make_provider(api_keys=[KEY])
    settings.PROVIDER_SECRET_KEYS = ["new-key-material"]
    with pytest.raises(CommandError, match="PROVIDER_SECRET_KEYS"):
        call_command("rotate_provider_secrets")
    settings.PROVIDER_SECRET_KEYS = ["old-key-material"]
    assert Provider.objects.get(pk=provider.pk).api_keys == [KEY]  # untouched


def test_unreadable_keys_are_a_503_envelope_not_a_500(api_client, admin_headers, make_provider, settings):
    settings.PROVIDER_SECRET_KEYS = ["old-key-material"]
    make_provider(api_keys=[KEY])
    settings.PROVIDER_SECRET_KEYS = ["lost-it"]
    response = api_client.get("/api/v1/provider/providers", **admin_headers)
    assert response.status_code == 503 and "PROVIDER_SECRET_KEYS" in response.json()["msg"]


@pytest.mark.parametrize(
    "key, shown", [("sk-proj-abcdefghijklmnop", "sk-***"), ("AIzaSyA-0123456789", "AIz***"), ("tiny", "***"), ("", "***")]
)
def test_masking_keeps_only_a_short_prefix(key, shown):
    assert crypto.mask_key(key) == shown


def test_keys_never_reach_the_logs(api_client, admin_headers, upstream, caplog):
    caplog.set_level(logging.DEBUG)
    second = "sk-proj-SECONDSECONDSECOND0002"
    upstream.refuse(KEY, 401)
    body = {"name": "p", "requester": "openai-chat-completions", "base_url": upstream.base_url, "api_keys": [KEY, second]}
    created = api_client.post("/api/v1/provider/providers", data=json.dumps(body), content_type="application/json", **admin_headers)
    provider_uuid = created.json()["data"]["uuid"]
    model = api_client.post("/api/v1/provider/models/llm", data=json.dumps({"name": "gpt-4o", "provider_uuid": provider_uuid}),
                            content_type="application/json", **admin_headers).json()["data"]["uuid"]
    assert api_client.post(f"/api/v1/provider/models/llm/{model}/test", **admin_headers).status_code == 200
    upstream.refuse(second, 401)
    assert api_client.post(f"/api/v1/provider/models/llm/{model}/test", **admin_headers).status_code == 400
    assert api_client.get(f"/api/v1/provider/providers/{provider_uuid}/scan-models", **admin_headers).status_code == 400
    api_client.put(f"/api/v1/provider/providers/{provider_uuid}", data=json.dumps({"api_keys": ["sk-***", "bad-***"]}),
                   content_type="application/json", **admin_headers)
    assert "Testing LLM model gpt-4o" in caplog.text  # the logs do say what happened
    assert KEY not in caplog.text and second not in caplog.text

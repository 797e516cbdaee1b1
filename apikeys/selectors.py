"""Reads of API keys."""

from .models import APIKey
from .secrets import hash_secret, looks_like_key

# Only what authentication needs: one indexed read by hash, no join.
_AUTH_FIELDS = ("id", "uuid", "name", "scopes", "status", "expires_at", "last_used_at", "created_by_id")


def key_for_secret(secret: str) -> APIKey | None:
    if not looks_like_key(secret):
        return None
    return APIKey.objects.only(*_AUTH_FIELDS).filter(key_hash=hash_secret(secret)).first()


def list_keys():
    return APIKey.objects.all()


def get_key(key_id) -> APIKey | None:
    return APIKey.objects.filter(pk=key_id).first()

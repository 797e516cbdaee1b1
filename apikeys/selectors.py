"""Reads of API keys."""

from functools import cache

from .models import APIKey
from .secrets import hash_secret, looks_like_key

# Only what authentication needs: one indexed read by hash, no join.
_AUTH_FIELDS = ("id", "uuid", "name", "scopes", "status", "expires_at", "last_used_at", "created_by_id")


@cache
def _key_by_hash_sql() -> str:
    # This read runs on every API request. The ORM writes its SQL once (dialect, quoting); each request then
    # skips query compilation, which costs ten times the indexed lookup itself.
    sql, _ = APIKey.objects.filter(key_hash="").only(*_AUTH_FIELDS).order_by().query.sql_with_params()
    return sql


def key_for_secret(secret: str) -> APIKey | None:
    if not looks_like_key(secret):
        return None
    return next(iter(APIKey.objects.raw(_key_by_hash_sql(), [hash_secret(secret)])), None)


def list_keys():
    return APIKey.objects.all()


def get_key(key_id) -> APIKey | None:
    return APIKey.objects.filter(pk=key_id).first()

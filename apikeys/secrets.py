"""Key material: generation and the one-way hash. A fast keyed hash, because it runs on every request."""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "lbk_"
DISPLAY_PREFIX_LENGTH = 12  # "lbk_" + 8 random characters: enough to recognise a key, useless to guess it
_KEY_LENGTH = len(KEY_PREFIX) + 43  # token_urlsafe(32) is 43 characters


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) == _KEY_LENGTH


def hash_secret(secret: str) -> str:
    return hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), hashlib.sha256).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:DISPLAY_PREFIX_LENGTH]

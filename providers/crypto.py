"""Provider secrets at rest and on display: Fernet encryption (MultiFernet for key rotation) and masking."""

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.signals import setting_changed
from django.dispatch import receiver

from langbot_site.api import ServiceUnavailable

from . import conf

MASK = "***"
_DERIVATION_CONTEXT = b"langbot.providers.api_keys:"


class SecretsUnreadable(ServiceUnavailable):
    """Stored keys were encrypted with a key this server no longer has: a configuration problem, not a client one."""

    default_detail = "Provider keys cannot be decrypted: check PROVIDER_SECRET_KEYS (the old key must stay listed)"


def _fernet_key(material: str) -> bytes:
    # Any string (SECRET_KEY, a passphrase) becomes a 32-byte Fernet key; the context keeps it apart from other uses.
    return base64.urlsafe_b64encode(hashlib.sha256(_DERIVATION_CONTEXT + material.encode()).digest())


@cache
def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in conf.secret_keys()])


@receiver(setting_changed)
def _forget_cipher(setting, **kwargs):
    if setting in ("PROVIDER_SECRET_KEYS", "SECRET_KEY"):
        _cipher.cache_clear()


def forget_cipher() -> None:
    """Rebuild the cipher from the current configuration on next use (after the environment changed)."""
    _cipher.cache_clear()


def encrypt_keys(keys: list[str]) -> str:
    return _cipher().encrypt(json.dumps(list(keys)).encode()).decode()


def decrypt_keys(token: str) -> list[str]:
    if not token:
        return []
    try:
        return json.loads(_cipher().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretsUnreadable() from exc


def reencrypt(token: str) -> str:
    """The same secret under the first (current) key; raises SecretsUnreadable when no listed key can read it."""
    if not token:
        return token
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsUnreadable() from exc


def mask_key(key: str) -> str:
    """`sk-abcdef…` -> `sk-***`: a short prefix to recognise the key, never enough to use it."""
    if len(key) < 12:
        return MASK
    return key[:3] + MASK


def is_masked(value: str) -> bool:
    return value.endswith(MASK)


def redact(text: str, keys) -> str:
    """`text` with every full key replaced by its mask (upstreams sometimes echo the key they refused)."""
    for key in sorted((k for k in keys if k), key=len, reverse=True):
        text = text.replace(key, mask_key(key))
    return text

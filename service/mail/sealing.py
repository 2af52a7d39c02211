"""Encrypting queued mail content at rest (it can hold an initial password).

The key is an HKDF sub-key of SECRET_KEY; content sealed under a key listed in
SECRET_KEY_FALLBACKS still opens (MultiFernet tries each), so rotating SECRET_KEY
fails no queued mail.
"""

from __future__ import annotations

import base64
import functools
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.accounts.secrets import derive_key, secret_keys
from service.config import get_settings

_INFO = "fernet:mail-outbox"


@functools.lru_cache(maxsize=16)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derive_key(key, _INFO))) for key in keys])


def seal(content: dict[str, str]) -> str:
    return _fernet((get_settings().secret_key,)).encrypt(json.dumps(content).encode()).decode()


class SealBroken(Exception):
    """The content cannot be opened (sealed under a key that is neither SECRET_KEY nor a fallback)."""


def unseal(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet(secret_keys()).decrypt(token.encode()))
    except InvalidToken:
        raise SealBroken("mail content cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS") from None

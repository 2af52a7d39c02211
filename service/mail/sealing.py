"""Encrypting queued mail content at rest (it can hold an initial password)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from service.config import get_settings


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(f"ikz-mail-outbox:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(content: dict[str, str]) -> str:
    return _fernet(get_settings().secret_key).encrypt(json.dumps(content).encode()).decode()


class SealBroken(Exception):
    """The content cannot be opened (SECRET_KEY changed since it was queued)."""


def unseal(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet(get_settings().secret_key).decrypt(token.encode()))
    except InvalidToken:
        raise SealBroken("mail content cannot be decrypted with the current SECRET_KEY") from None

"""Random secrets and how they are stored.

Initial passwords and tokens are long random strings, so a keyed hash (HMAC-SHA256
with SECRET_KEY) is enough to store them safely and keeps bulk onboarding fast; a
slow KDF is only needed for passwords people choose (see passwords.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from service.config import get_settings

# No look-alikes: 0/O/o, 1/l/I are left out, so a printed password can be typed.
INITIAL_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
INITIAL_PASSWORD_GROUPS = 3
INITIAL_PASSWORD_GROUP_LENGTH = 5


def keyed_hash(value: str, purpose: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def matches(value: str, stored: str | None, purpose: str) -> bool:
    if not stored:
        return False
    return hmac.compare_digest(keyed_hash(value, purpose), stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_initial_password() -> str:
    """Three groups of five characters (e.g. 'Kx7mP-q2Wz9-RtbHa'): 17 characters, ~87 bits."""
    groups = (
        "".join(secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_GROUP_LENGTH))
        for _ in range(INITIAL_PASSWORD_GROUPS)
    )
    return "-".join(groups)

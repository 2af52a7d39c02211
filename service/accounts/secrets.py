"""Random secrets, the keys derived from SECRET_KEY, and how secrets are stored.

Initial passwords and tokens are long random strings, so a keyed hash (HMAC-SHA256)
is enough to store them safely and keeps bulk onboarding fast; a slow KDF is only
needed for passwords people choose (see passwords.py).

Every use of SECRET_KEY gets a sub-key of its own, derived with HKDF-SHA256 and the
use's name as `info` (the token hashes of each purpose, the outbox encryption), so no
two uses ever share a key. SECRET_KEY_FALLBACKS lists earlier keys: new values are
always made with SECRET_KEY, and a stored value made under a fallback key still
verifies (a lookup computes the hash under every key and matches any), so a rotation
breaks no open link, session or queued mail. Drop a fallback once everything made
under it has expired (activation links: ACTIVATION_TTL_DAYS).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.config import get_settings

# No look-alikes: 0/O/o, 1/l/I are left out, so a printed password can be typed.
INITIAL_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
INITIAL_PASSWORD_GROUPS = 3
INITIAL_PASSWORD_GROUP_LENGTH = 5
_SALT = b"ikz-secret-key-v1"


@functools.lru_cache(maxsize=256)
def derive_key(secret_key: str, info: str, length: int = 32) -> bytes:
    """The sub-key of SECRET_KEY (or of a fallback key) for one use, named by `info`."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info.encode()).derive(secret_key.encode())


def secret_keys() -> tuple[str, ...]:
    """SECRET_KEY first, then the fallbacks (older keys, still accepted for verifying)."""
    settings = get_settings()
    return (settings.secret_key, *(k for k in settings.secret_key_fallbacks if k != settings.secret_key))


def _hash(key: str, value: str, purpose: str) -> str:
    return hmac.new(derive_key(key, f"hmac:{purpose}"), value.encode(), hashlib.sha256).hexdigest()


def keyed_hash(value: str, purpose: str) -> str:
    """How a new token or initial password is stored (always under the current SECRET_KEY)."""
    return _hash(get_settings().secret_key, value, purpose)


def keyed_hashes(value: str, purpose: str) -> list[str]:
    """The stored forms of `value` under every accepted key, for lookups (`token_hmac IN …`)."""
    return [_hash(key, value, purpose) for key in secret_keys()]


def matches(value: str, stored: str | None, purpose: str) -> bool:
    if not stored:
        return False
    found = False
    for candidate in keyed_hashes(value, purpose):
        found |= hmac.compare_digest(candidate, stored)
    return found


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_initial_password() -> str:
    """Three groups of five characters (e.g. 'Kx7mP-q2Wz9-RtbHa'): 17 characters, ~87 bits."""
    groups = (
        "".join(secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_GROUP_LENGTH))
        for _ in range(INITIAL_PASSWORD_GROUPS)
    )
    return "-".join(groups)

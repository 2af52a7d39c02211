"""Passwords people choose: the policy, and argon2id hashing with rehash on login."""

from __future__ import annotations

import asyncio
import functools
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.config import Settings, get_settings
from service.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    if not COMMON_PASSWORDS_FILE.exists():
        return frozenset()
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, username: str | None = None, initial_password: str | None = None,
                 field: str = "newPassword") -> None:
    """Raise InvalidInput with the first rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"The password must have at least {MIN_LENGTH} characters.", field=field)
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"The password must have at most {MAX_LENGTH} characters.", field=field)
    lowered = unicodedata.normalize("NFC", password).lower()
    if username and username.lower() in lowered:
        raise InvalidInput("The password must not contain the username.", field=field)
    if initial_password and password == initial_password:
        raise InvalidInput("Choose a new password, not the initial one.", field=field)
    if lowered in _common_passwords() or len(set(password)) < 4:
        raise InvalidInput("This password is too common or too simple; choose another one.", field=field)


@functools.lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)


def hasher(settings: Settings | None = None) -> PasswordHasher:
    s = settings or get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow (~0.1 s): keep it off the event loop.
    return await asyncio.to_thread(hasher().hash, password)


@functools.lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("not a real password, only for timing")


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work: without a stored hash, a dummy hash is verified, so no answer comes faster."""
    s = get_settings()
    target = stored_hash or _dummy_hash(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)

    def verify() -> bool:
        try:
            return hasher().verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    result = await asyncio.to_thread(verify)
    return result and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)

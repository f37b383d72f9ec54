"""argon2id password hashing (argon2-cffi) at OWASP's recommended minimum or above."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from lms_graphql.errors import bad_input

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1 (minimum configuration).
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, type=Type.ID)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # a bound on hashing cost per request, far above any real password


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise bad_input(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise bad_input(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


async def hash_password(password: str) -> str:
    # argon2 is CPU- and memory-bound by design: keep it off the event loop.
    return await asyncio.to_thread(HASHER.hash, password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check: an absent hash is verified against a dummy so timing matches."""
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("lms-graphql dummy password for absent users")

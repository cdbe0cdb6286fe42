"""Secrets and how they are kept: API tokens, login sessions, passwords and user names.

* An API token is ``ilt_`` + 32 random bytes (``secrets.token_urlsafe``); a login session
  (the console's cookie) is ``ils_`` + 32 random bytes. Each is shown once, when it is made;
  the store keeps only its SHA-256 (a random 256-bit secret needs no slow hash: nobody can
  guess an input that matches).
* A password is kept as an argon2id hash (argon2-cffi's defaults, RFC 9106's low-memory
  profile). Checking one takes tens of milliseconds on purpose: callers run it in a thread.
* Public ids (what ``tokens list`` shows and ``tokens revoke`` takes) are 10 random hex
  digits, unrelated to the secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..exceptions import InvalidName, InvalidPassword

TOKEN_PREFIX = "ilt_"
LOGIN_PREFIX = "ils_"
SECRET_BYTES = 32
#: Longest password accepted: argon2 takes any length, but a megabyte "password" is a way to
#: burn the server's CPU, not a password.
MAX_PASSWORD = 1024
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
NAME_RULE = "1-64 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit"

_hasher = PasswordHasher()
#: Checked against when the user does not exist or has no password, so a wrong name costs
#: as long as a wrong password (no user enumeration by timing).
_NO_PASSWORD = _hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    """A fresh API token (to show once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def new_login() -> str:
    """A fresh login-session secret (the console's cookie value)."""
    return LOGIN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def new_id() -> str:
    """A public credential id: short, random, and telling nothing about the secret."""
    return secrets.token_hex(5)


def looks_like_secret(text: str) -> bool:
    """Whether ``text`` could be one of ours (checked before any store lookup)."""
    return text.startswith((TOKEN_PREFIX, LOGIN_PREFIX)) and len(text) < 128


def digest(secret: str) -> str:
    """What the store keeps of a token or login secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    """``name`` if it is a valid user name; ``InvalidName`` otherwise."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidName(f"invalid user name {name!r}: use {NAME_RULE}")
    return name


def hash_password(password: str) -> str:
    """The argon2id hash to store; ``InvalidPassword`` for an empty or huge password."""
    if not password:
        raise InvalidPassword("the password is empty")
    if len(password) > MAX_PASSWORD:
        raise InvalidPassword(f"the password is longer than {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash. None (no such user, or a user
    without a password) never matches, but takes as long as a real check."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored or _NO_PASSWORD, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False

"""Signed officer tokens (JWT, HS256): who is calling, in which unit, with which roles.

The signing key comes from API_TOKEN_KEY. With the embedded dev server and no key
configured, one is generated once under the data directory (like the payload dev keyring);
against a real cluster there is no default: `token_key` refuses.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from pydantic import ValidationError

from procedures.problems import describe_validation_error
from runtime.secret_files import read_or_create
from runtime.settings import Settings
from runtime.temporal import ConfigurationError
from workflows.dossier_inputs import Actor

__all__ = [
    "DEFAULT_TTL",
    "ISSUER",
    "MIN_KEY_BYTES",
    "InvalidToken",
    "dev_token_key",
    "mint_token",
    "read_token",
    "token_key",
]

ALGORITHM = "HS256"
ISSUER = "onestop-dossier-engine"
# A working day: an officer signs in each morning.
DEFAULT_TTL = timedelta(hours=8)
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
MIN_KEY_BYTES = 32


class InvalidToken(ValueError):
    """A token that is missing, malformed, forged, expired or carries an unusable identity."""


def token_key(settings: Settings) -> bytes:
    """The signing key: API_TOKEN_KEY, or the dev key for the embedded dev server only."""
    if settings.api_token_key is not None:
        key = settings.api_token_key.encode()
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(f"API_TOKEN_KEY must be at least {MIN_KEY_BYTES} bytes long")
        return key
    if settings.temporal_address is not None:
        raise ConfigurationError(
            "API_TOKEN_KEY must be set when TEMPORAL_ADDRESS is set: a real cluster gets no default key"
        )
    return dev_token_key(settings.dev_token_key_file)


def dev_token_key(path: Path) -> bytes:
    """The key in `path` (mode 0600), created on first use; concurrent first starts agree on one."""
    text = read_or_create(path, lambda: base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    key = text.strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(f"{path}: the dev token key is shorter than {MIN_KEY_BYTES} bytes")
    return key


def mint_token(actor: Actor, key: bytes, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> str:
    """A token for `actor`, valid for `ttl` from `now`."""
    issued = now or datetime.now(timezone.utc)
    claims = {
        "iss": ISSUER,
        "sub": actor.id,
        "unit": actor.unit,
        "roles": [role.value for role in actor.roles],
        "name": actor.name,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, key: bytes) -> Actor:
    """The actor a token was minted for, or InvalidToken saying why not."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # never trust the token's own "alg"
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as err:
        raise InvalidToken("token expired") from err
    except jwt.InvalidTokenError as err:
        raise InvalidToken(f"invalid token: {err}") from err
    try:
        return Actor(
            id=claims["sub"],
            unit=claims.get("unit", ""),
            roles=tuple(claims.get("roles") or ()),
            name=claims.get("name", ""),
        )
    except ValidationError as err:
        raise InvalidToken(f"token identity: {describe_validation_error(err)}") from err

"""Signed officer tokens (JWT, HS256): who is calling, in which unit, with which roles.

The signing keys come from API_TOKEN_KEY: one key, or `k2:KEY,k1:KEY` where the first signs
and all verify, so that a key can be rotated without signing every officer out. A token names
its key (`kid`), is meant for this API (`aud`) and lives at most API_TOKEN_MAX_HOURS (a working
day by default): a longer-lived token is refused even when its signature is good. With the
embedded dev server and no key configured, one is generated once under the data directory
(like the payload dev keyring); against a real cluster there is no default: `token_key` refuses.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from pydantic import ValidationError

from model.dossier_inputs import Actor
from procedures.problems import describe_validation_error
from runtime.secret_files import InsecureSecretFile, read_or_create
from runtime.settings import ConfigurationError, Settings

__all__ = [
    "AUDIENCE",
    "DEFAULT_TTL",
    "MAX_TTL",
    "TokenKeys",
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
AUDIENCE = "onestop-dossier-api"
# A working day: an officer signs in each morning.
DEFAULT_TTL = timedelta(hours=8)
# The longest a token may live unless API_TOKEN_MAX_HOURS says otherwise: a working day.
MAX_TTL = DEFAULT_TTL
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
MIN_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class TokenKeys:
    """The keys tokens are signed and checked with, by key id (the first signs), and the
    longest lifetime a token may have."""

    keys: dict[str, bytes]
    max_ttl: timedelta = field(default=MAX_TTL)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigurationError("no token key")
        for kid, key in self.keys.items():
            if len(key) < MIN_KEY_BYTES:
                raise ConfigurationError(f"API_TOKEN_KEY {kid!r} must be at least {MIN_KEY_BYTES} bytes long")

    @property
    def signing_id(self) -> str:
        return next(iter(self.keys))

    @classmethod
    def of(cls, key: bytes | TokenKeys) -> TokenKeys:
        """`key` as a keyring: a lone key gets an id derived from it (not revealing it)."""
        if isinstance(key, TokenKeys):
            return key
        return cls({hashlib.sha256(key).hexdigest()[:12]: key})

    @classmethod
    def parse(cls, spec: str, max_ttl: timedelta = MAX_TTL) -> TokenKeys:
        """`k2:KEY,k1:KEY` (the first signs), or one key alone."""
        entries = [entry.strip() for entry in spec.split(",")]
        pairs = [entry.partition(":") for entry in entries]
        if len(entries) == 1 and not (pairs[0][1] and _KEY_ID.fullmatch(pairs[0][0])):
            return cls({**cls.of(spec.encode()).keys}, max_ttl)
        keys: dict[str, bytes] = {}
        for number, (kid, colon, key) in enumerate(pairs, start=1):
            if not colon or not _KEY_ID.fullmatch(kid) or not key:
                raise ConfigurationError(f"API_TOKEN_KEY entry {number} is not KEY_ID:KEY")
            if kid in keys:
                raise ConfigurationError(f"API_TOKEN_KEY key id {kid!r} appears twice")
            keys[kid] = key.encode()
        return cls(keys, max_ttl)


class InvalidToken(ValueError):
    """A token that is missing, malformed, forged, expired or carries an unusable identity."""


def token_key(settings: Settings) -> TokenKeys:
    """The signing keys: API_TOKEN_KEY, or the dev key for the embedded dev server only."""
    max_ttl = timedelta(hours=settings.api_token_max_hours)
    if settings.api_token_key is not None:
        return TokenKeys.parse(settings.api_token_key, max_ttl)
    if settings.temporal_address is not None:
        raise ConfigurationError(
            "API_TOKEN_KEY must be set when TEMPORAL_ADDRESS is set: a real cluster gets no default key"
        )
    return TokenKeys({**TokenKeys.of(dev_token_key(settings.dev_token_key_file)).keys}, max_ttl)


def dev_token_key(path: Path) -> bytes:
    """The key in `path` (mode 0600), created on first use; concurrent first starts agree on one."""
    try:
        text = read_or_create(path, lambda: base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    except InsecureSecretFile as err:
        raise ConfigurationError(str(err)) from None
    key = text.strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(f"{path}: the dev token key is shorter than {MIN_KEY_BYTES} bytes")
    return key


def mint_token(
    actor: Actor, key: bytes | TokenKeys, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> str:
    """A token for `actor`, valid for `ttl` from `now`, signed with the first key.

    Raises ValueError when `ttl` is longer than the keyring's maximum lifetime.
    """
    keys = TokenKeys.of(key)
    if ttl > keys.max_ttl:
        raise ValueError(f"a token lives at most {keys.max_ttl.total_seconds() / 3600:g} hours")
    issued = now or datetime.now(timezone.utc)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": actor.id,
        "unit": actor.unit,
        "roles": [role.value for role in actor.roles],
        "name": actor.name,
        "iat": issued,
        "exp": issued + ttl,
    }
    kid = keys.signing_id
    return jwt.encode(claims, keys.keys[kid], algorithm=ALGORITHM, headers={"kid": kid})


def read_token(token: str, key: bytes | TokenKeys) -> Actor:
    """The actor a token was minted for, or InvalidToken saying why not."""
    keys = TokenKeys.of(key)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as err:
        raise InvalidToken(f"invalid token: {err}") from err
    if not isinstance(kid, str) or kid not in keys.keys:
        raise InvalidToken("invalid token: it names no key id this API knows (kid)")
    try:
        claims = jwt.decode(
            token,
            keys.keys[kid],
            algorithms=[ALGORITHM],  # never trust the token's own "alg"
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as err:
        raise InvalidToken("token expired") from err
    except jwt.InvalidTokenError as err:
        raise InvalidToken(f"invalid token: {err}") from err
    if (
        not isinstance(claims["exp"], int | float)
        or not isinstance(claims["iat"], int | float)
        or (claims["exp"] - claims["iat"] > keys.max_ttl.total_seconds())
    ):
        raise InvalidToken(
            f"invalid token: it lives longer than {keys.max_ttl.total_seconds() / 3600:g} hours"
        )
    try:
        return Actor(
            id=claims["sub"],
            unit=claims.get("unit", ""),
            roles=tuple(claims.get("roles") or ()),
            name=claims.get("name", ""),
        )
    except ValidationError as err:
        raise InvalidToken(f"token identity: {describe_validation_error(err)}") from err

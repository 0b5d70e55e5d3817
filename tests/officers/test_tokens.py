"""Officer tokens: what they carry, what is refused, where the key comes from."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from officers.tokens import AUDIENCE, ISSUER, InvalidToken, TokenKeys, mint_token, read_token, token_key
from runtime.settings import ConfigurationError, Settings
from tests.builders import LEADER

KEY = b"k" * 32
KID = TokenKeys.of(KEY).signing_id


def claims(**changes) -> dict:
    """The claims of a good token for LEADER, with `changes`."""
    now = int(time.time())
    good = {
        "sub": "x",
        "iat": now,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "unit": LEADER.unit,
        "roles": ["leader"],
    }
    return {**good, **changes}


class TestTokens:
    def test_a_token_carries_id_unit_roles_and_name(self):
        officer = LEADER.model_copy(update={"name": "Trần Thị Bình"})
        assert read_token(mint_token(officer, KEY), KEY) == officer

    @pytest.mark.parametrize(
        ("forge", "why"),
        [
            (lambda: mint_token(LEADER, b"z" * 32), "no key id"),
            (
                lambda: jwt.encode(claims(), b"z" * 32, "HS256", headers={"kid": KID}),
                "Signature verification failed",
            ),
            (lambda: mint_token(LEADER, KEY, ttl=timedelta(seconds=-1)), "token expired"),
            (
                lambda: jwt.encode(claims(), None, algorithm="none", headers={"kid": KID}),
                "alg value is not allowed",
            ),
            (lambda: mint_token(LEADER, KEY)[:-3] + "abc", "invalid token"),
            (lambda: jwt.encode(claims(iss="elsewhere"), KEY, "HS256", headers={"kid": KID}), "issuer"),
            (lambda: jwt.encode(claims(roles=["mayor"]), KEY, "HS256", headers={"kid": KID}), "roles.0"),
            (lambda: jwt.encode(claims(aud="another-api"), KEY, "HS256", headers={"kid": KID}), "Audience"),
            (
                lambda: jwt.encode(
                    {k: v for k, v in claims().items() if k != "aud"}, KEY, "HS256", headers={"kid": KID}
                ),
                "aud",
            ),
            (
                lambda: jwt.encode(claims(exp=2**40), KEY, "HS256", headers={"kid": KID}),
                "lives longer than 8 hours",
            ),
            (lambda: jwt.encode(claims(), KEY, "HS256"), "no key id"),
            (lambda: "not.a.token", "invalid token"),
        ],
        ids=[
            "other key",
            "kid of another key",
            "expired",
            "alg none",
            "tampered",
            "other issuer",
            "unknown role",
            "other audience",
            "no audience",
            "lives too long",
            "no kid",
            "garbage",
        ],
    )
    def test_forged_expired_or_unusable_tokens_are_refused(self, forge, why):
        with pytest.raises(InvalidToken, match=why):
            read_token(forge(), KEY)

    def test_a_token_cannot_be_minted_for_longer_than_the_maximum(self):
        with pytest.raises(ValueError, match="at most 8 hours"):
            mint_token(LEADER, KEY, ttl=timedelta(hours=9))
        long_lived = TokenKeys({"k1": KEY}, max_ttl=timedelta(hours=24))
        assert read_token(mint_token(LEADER, long_lived, ttl=timedelta(hours=24)), long_lived) == LEADER


class TestRotation:
    def test_tokens_of_the_old_key_pass_until_it_is_removed(self, tmp_path: Path):
        """k1 signs; then k2 is put first: k1's tokens still pass, new ones name k2; k1 removed: refused."""
        old_key, new_key = "1" * 32, "2" * 32
        before = token_key(Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": f"k1:{old_key}"}))
        old_token = mint_token(LEADER, before)
        during = token_key(
            Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": f"k2:{new_key},k1:{old_key}"})
        )
        new_token = mint_token(LEADER, during)
        assert jwt.get_unverified_header(old_token)["kid"] == "k1"
        assert jwt.get_unverified_header(new_token)["kid"] == "k2"
        assert read_token(old_token, during) == read_token(new_token, during) == LEADER
        after = token_key(Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": f"k2:{new_key}"}))
        assert read_token(new_token, after) == LEADER
        with pytest.raises(InvalidToken, match="no key id"):
            read_token(old_token, after)

    @pytest.mark.parametrize(
        "spec", ["k1:" + "s" * 32 + ",k1:" + "t" * 32, "k1:short", "k 1:" + "s" * 32 + ",k2:x"]
    )
    def test_a_malformed_keyring_is_refused_at_start(self, tmp_path: Path, spec):
        with pytest.raises(ConfigurationError):
            token_key(Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": spec}))

    def test_the_maximum_lifetime_is_configurable(self, tmp_path: Path):
        keys = token_key(
            Settings.from_env(
                {"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": "s" * 32, "API_TOKEN_MAX_HOURS": "2"}
            )
        )
        assert keys.max_ttl == timedelta(hours=2)
        with pytest.raises(ValueError, match="at most 2 hours"):
            mint_token(LEADER, keys)


class TestKey:
    def test_dev_key_is_generated_once_private_and_reused(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        first = token_key(settings)
        assert token_key(settings) == first and len(next(iter(first.keys.values()))) >= 32
        assert settings.dev_token_key_file.stat().st_mode & 0o777 == 0o600

    def test_configured_key_is_used_and_must_be_long_enough(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": "s" * 32})
        assert list(token_key(settings).keys.values()) == [b"s" * 32]
        with pytest.raises(ConfigurationError, match="at least 32 bytes"):
            token_key(Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": "short"}))
        assert not settings.dev_token_key_file.exists()

    def test_a_cluster_has_no_default_key(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TEMPORAL_ADDRESS": "temporal.example:7233"})
        with pytest.raises(ConfigurationError, match="API_TOKEN_KEY must be set"):
            token_key(settings)

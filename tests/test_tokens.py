"""Officer tokens: what they carry, what is refused, where the key comes from."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from officers.tokens import InvalidToken, mint_token, read_token, token_key
from runtime.settings import Settings
from runtime.temporal import ConfigurationError
from tests.builders import LEADER

KEY = b"k" * 32


class TestTokens:
    def test_a_token_carries_id_unit_roles_and_name(self):
        officer = LEADER.model_copy(update={"name": "Trần Thị Bình"})
        assert read_token(mint_token(officer, KEY), KEY) == officer

    @pytest.mark.parametrize(
        ("forge", "why"),
        [
            (lambda: mint_token(LEADER, b"z" * 32), "Signature verification failed"),
            (lambda: mint_token(LEADER, KEY, ttl=timedelta(seconds=-1)), "token expired"),
            (lambda: jwt.encode({"sub": "x", "iss": "onestop-dossier-engine"}, None, algorithm="none"), "alg value is not allowed"),
            (lambda: mint_token(LEADER, KEY)[:-3] + "abc", "invalid token"),
            (lambda: jwt.encode({"sub": "x", "iat": 0, "exp": 2**40, "iss": "elsewhere"}, KEY, "HS256"), "issuer"),
            (lambda: jwt.encode(
                {"sub": "x", "iat": 0, "exp": 2**40, "iss": "onestop-dossier-engine", "unit": "u", "roles": ["mayor"]},
                KEY, "HS256",
            ), "roles.0"),
        ],
        ids=["other key", "expired", "alg none", "tampered", "other issuer", "unknown role"],
    )
    def test_forged_expired_or_unusable_tokens_are_refused(self, forge, why):
        with pytest.raises(InvalidToken, match=why):
            read_token(forge(), KEY)


class TestKey:
    def test_dev_key_is_generated_once_private_and_reused(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        first = token_key(settings)
        assert token_key(settings) == first and len(first) >= 32
        assert settings.dev_token_key_file.stat().st_mode & 0o777 == 0o600

    def test_configured_key_is_used_and_must_be_long_enough(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": "s" * 32})
        assert token_key(settings) == b"s" * 32
        with pytest.raises(ConfigurationError, match="at least 32 bytes"):
            token_key(Settings.from_env({"DATA_DIR": str(tmp_path), "API_TOKEN_KEY": "short"}))
        assert not settings.dev_token_key_file.exists()

    def test_a_cluster_has_no_default_key(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TEMPORAL_ADDRESS": "temporal.example:7233"})
        with pytest.raises(ConfigurationError, match="API_TOKEN_KEY must be set"):
            token_key(settings)

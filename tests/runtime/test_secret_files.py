"""Secret files under the data directory: created private, refused when others may read them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import starter
from officers.tokens import token_key
from runtime.secret_files import InsecureSecretFile, read_or_create
from runtime.settings import ConfigurationError, Settings
from runtime.temporal import payload_codec


class TestSecretFiles:
    def test_created_with_mode_0600(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        payload_codec(settings)
        token_key(settings)
        for path in (settings.dev_keyring_file, settings.dev_token_key_file):
            assert path.stat().st_mode & 0o777 == 0o600, path

    @pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o620])
    def test_group_or_world_access_is_refused(self, tmp_path: Path, mode: int):
        path = tmp_path / "secret"
        read_or_create(path, lambda: "x" * 40)
        os.chmod(path, mode)
        with pytest.raises(InsecureSecretFile, match=f"mode {mode:04o}"):
            read_or_create(path, lambda: "y" * 40)

    def test_both_keys_refuse_to_start_from_a_readable_file(self, tmp_path: Path):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        payload_codec(settings)
        token_key(settings)
        os.chmod(settings.dev_keyring_file, 0o644)
        os.chmod(settings.dev_token_key_file, 0o644)
        with pytest.raises(ConfigurationError, match="payload-keys has mode 0644"):
            payload_codec(settings)
        with pytest.raises(ConfigurationError, match="api-token-key has mode 0644"):
            token_key(settings)

    async def test_starter_says_so_in_one_line(self, tmp_path: Path, capsys):
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        payload_codec(settings)
        os.chmod(settings.dev_keyring_file, 0o644)
        code = await starter.main(["show", "000.00004.01.H01-261207-0001"], None, settings)
        err = capsys.readouterr().err
        assert code == 2 and "chmod 600" in err and len(err.strip().splitlines()) == 1, err

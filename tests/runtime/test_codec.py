"""Payload encryption: keys, rotation, the dev keyring, and histories on the server without personal data."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from model.dossier_inputs import CompleteStepInput
from runtime.codec import (
    ENCODING,
    EncryptionCodec,
    KeyringError,
    PayloadDecryptionError,
    data_converter,
    dev_keyring,
    generate_key,
    load_keyring,
)
from runtime.settings import ConfigurationError, Settings
from runtime.temporal import payload_codec
from tests.builders import APPLICANT, SPECIALIST, action_id, request, settled
from workflows.dossier import DossierWorkflow

PERSONAL_ID = APPLICANT.personal_id.encode()
NAME = APPLICANT.full_name.encode()


def key() -> bytes:
    return os.urandom(32)


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


class TestCodec:
    async def test_round_trip_restores_the_payload_and_hides_its_content(self):
        """Encoding then decoding gives back the payload; the encoded one holds no plaintext."""
        codec = EncryptionCodec({"k1": key()}, "k1")
        original = plain(f'{{"personal_id": "{APPLICANT.personal_id}"}}')
        [encoded] = await codec.encode([original])
        assert encoded.metadata["encoding"] == ENCODING
        assert encoded.metadata["encryption-key-id"] == b"k1"
        assert encoded.metadata["encryption-cipher"] == b"AES-256-GCM"
        assert PERSONAL_ID not in encoded.SerializeToString()
        assert await codec.decode([encoded]) == [original]

    async def test_each_encoding_uses_a_fresh_nonce(self):
        """The same payload encrypted twice gives two different ciphertexts."""
        codec = EncryptionCodec({"k1": key()}, "k1")
        first, second = await codec.encode([plain("x"), plain("x")])
        assert first.data[:12] != second.data[:12] and first.data != second.data

    async def test_payload_of_an_old_key_decodes_after_rotation(self):
        """Encrypted under k1, decoded by the keyring `k2 (active), k1`; new payloads use k2."""
        k1, k2 = key(), key()
        [old] = await EncryptionCodec({"k1": k1}, "k1").encode([plain("before rotation")])
        rotated = EncryptionCodec({"k2": k2, "k1": k1}, "k2")
        assert await rotated.decode([old]) == [plain("before rotation")]
        [new] = await rotated.encode([plain("after rotation")])
        assert new.metadata["encryption-key-id"] == b"k2"

    async def test_unknown_key_id_fails_naming_it(self):
        """A payload whose key is not in the keyring fails with an error naming the key id."""
        [encoded] = await EncryptionCodec({"retired-2025": key()}, "retired-2025").encode([plain("x")])
        with pytest.raises(PayloadDecryptionError, match="'retired-2025'"):
            await EncryptionCodec({"k2": key()}, "k2").decode([encoded])

    @pytest.mark.parametrize("where", ["ciphertext", "nonce", "key id"])
    async def test_tampered_payload_fails(self, where):
        """A changed byte of ciphertext or nonce, or a relabelled key id, fails authentication."""
        k = key()
        codec = EncryptionCodec({"k1": k, "k0": k}, "k1")
        [encoded] = await codec.encode([plain("x" * 40)])
        if where == "key id":
            encoded.metadata["encryption-key-id"] = b"k0"  # same key: only the associated data differs
        else:
            data = bytearray(encoded.data)
            data[20 if where == "ciphertext" else 3] ^= 1
            encoded.data = bytes(data)
        with pytest.raises(PayloadDecryptionError, match="failed authentication"):
            await codec.decode([encoded])

    async def test_truncated_payload_fails(self):
        """An encrypted payload too short to hold nonce and tag is refused."""
        codec = EncryptionCodec({"k1": key()}, "k1")
        [encoded] = await codec.encode([plain("x")])
        encoded.data = encoded.data[:10]
        with pytest.raises(PayloadDecryptionError, match="too short"):
            await codec.decode([encoded])

    async def test_unencrypted_payloads_pass_through_decode(self):
        """Payloads recorded before encryption decode unchanged, next to encrypted ones."""
        codec = EncryptionCodec({"k1": key()}, "k1")
        [encrypted] = await codec.encode([plain("new")])
        assert await codec.decode([plain("old"), encrypted]) == [plain("old"), plain("new")]

    def test_active_key_must_be_in_the_keyring(self):
        """A codec whose active key id is missing from its keys is refused."""
        with pytest.raises(KeyringError, match="'k9'"):
            EncryptionCodec({"k1": key()}, "k9")

    async def test_failure_messages_are_encrypted_too(self):
        """A failure's message and stack trace travel inside an encrypted payload and come back whole."""
        converter = data_converter(EncryptionCodec({"k1": key()}, "k1"))
        failure = Failure()
        await converter.encode_failure(ApplicationError(f"bad id {APPLICANT.personal_id}", type="X"), failure)
        assert PERSONAL_ID not in failure.SerializeToString()
        assert failure.encoded_attributes.metadata["encryption-key-id"] == b"k1"
        decoded = await converter.decode_failure(failure)
        assert isinstance(decoded, ApplicationError) and APPLICANT.personal_id in decoded.message

    def test_without_a_codec_the_converter_is_the_plain_pydantic_one(self):
        """data_converter(None) is pydantic_data_converter itself."""
        assert data_converter(None) is pydantic_data_converter


class TestKeyring:
    def test_first_key_is_active_and_all_decode(self):
        """`k2:…,k1:…` gives both keys, k2 active; spaces around entries are ignored."""
        k1, k2 = generate_key(), generate_key()
        keys, active = load_keyring(f" k2:{k2} , k1:{k1} ")
        assert active == "k2"
        assert keys == {"k2": base64.b64decode(k2), "k1": base64.b64decode(k1)}

    def test_generated_keys_are_32_random_bytes(self):
        """generate_key gives base64 of 32 bytes, different each time."""
        assert len(base64.b64decode(generate_key(), validate=True)) == 32
        assert generate_key() != generate_key()

    @pytest.mark.parametrize(
        "spec, problem",
        [
            ("", "no keys"),
            (" , ", "no keys"),
            ("k1", "entry 1 is not KEY_ID:BASE64KEY"),
            ("k1:", "entry 1 is not KEY_ID:BASE64KEY"),
            (":{key}", "entry 1 is not KEY_ID:BASE64KEY"),
            ("k1:{key},,k2:{key}", "entry 2 is empty"),
            ("k 1:{key}", "key id 'k 1' must be"),
            ("k1:not*base64!", "key 'k1' is not valid base64"),
            ("k1:" + base64.b64encode(b"x" * 16).decode(), "key 'k1' is 16 bytes: must be 32 bytes"),
            ("k1:{key},k1:{key}", "key id 'k1' appears twice"),
        ],
    )
    def test_each_mistake_is_named(self, spec, problem):
        """Empty, malformed, bad base64, wrong length and duplicate ids: the error says which."""
        secret = generate_key()
        with pytest.raises(KeyringError, match=problem) as caught:
            load_keyring(spec.format(key=secret))
        assert secret not in str(caught.value)


def settings(tmp_path, **env: str) -> Settings:
    return Settings.from_env({"DATA_DIR": str(tmp_path), **env})


class TestKeyResolution:
    def test_dev_keyring_is_created_once_private_and_reused(self, tmp_path):
        """The first use writes DATA_DIR/payload-keys with mode 0600; later uses read the same key."""
        path = tmp_path / "data" / "payload-keys"
        keys, active = dev_keyring(path)
        assert active == "dev1" and len(keys["dev1"]) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_text()
        assert dev_keyring(path) == (keys, active)
        assert path.read_text() == content
        assert [p.name for p in path.parent.iterdir()] == ["payload-keys"]  # no draft left behind

    async def test_worker_and_starter_share_the_dev_keyring(self, tmp_path):
        """Two processes on the same embedded dev server (same DATA_DIR) decrypt each other's payloads."""
        worker_side, starter_side = payload_codec(settings(tmp_path)), payload_codec(settings(tmp_path))
        assert (tmp_path / "payload-keys").exists()
        [encoded] = await worker_side.encode([plain("x")])
        assert await starter_side.decode([encoded]) == [plain("x")]

    def test_payload_keys_win_over_the_dev_keyring(self, tmp_path):
        """With PAYLOAD_KEYS set, the embedded dev server uses them and no keyring file is written."""
        codec = payload_codec(settings(tmp_path, PAYLOAD_KEYS=f"prod3:{generate_key()}"))
        assert codec.active_key_id == "prod3"
        assert not (tmp_path / "payload-keys").exists()

    def test_a_cluster_without_payload_keys_is_refused(self, tmp_path):
        """TEMPORAL_ADDRESS without PAYLOAD_KEYS fails at start, before anything is sent."""
        with pytest.raises(ConfigurationError, match="PAYLOAD_KEYS must be set when TEMPORAL_ADDRESS is set"):
            payload_codec(settings(tmp_path, TEMPORAL_ADDRESS="temporal.example:7233"))
        assert not (tmp_path / "payload-keys").exists()

    def test_bad_payload_keys_are_a_configuration_error(self, tmp_path):
        """A malformed PAYLOAD_KEYS fails at start with the variable and the problem named."""
        with pytest.raises(ConfigurationError, match="PAYLOAD_KEYS: key 'k1' is not valid base64"):
            payload_codec(settings(tmp_path, TEMPORAL_ADDRESS="temporal.example:7233", PAYLOAD_KEYS="k1:%%%"))

    def test_keys_stay_out_of_the_settings_repr(self, tmp_path):
        """Settings can be logged without leaking the keys."""
        secret = generate_key()
        assert secret not in repr(settings(tmp_path, PAYLOAD_KEYS=f"k1:{secret}"))


def payloads_in(message: Message) -> list[Payload]:
    """Every Payload anywhere inside a protobuf message."""
    if isinstance(message, Payload):
        return [message]
    found = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            values = [value]
        else:  # a repeated field, or a map (whose values may be messages)
            values = list(value.values()) if hasattr(value, "values") else list(value)
        for item in values:
            if isinstance(item, Message):
                found.extend(payloads_in(item))
    return found


ENCRYPTED_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: lambda a: a.input,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: lambda a: a.input,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: lambda a: a.accepted_request.input.args,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: lambda a: a.outcome.success,
}


@pytest.mark.usefixtures("worker")
class TestOnTheServer:
    async def test_history_and_search_attributes_hold_no_personal_data(self, env, counter):
        """A received dossier with a completed step: the raw history has no personal ID or name in clear."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        await settled(handle)
        view = await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
        )
        assert view.current_step.id == "approve"
        await settled(handle)

        # A client without the codec: what the server (and anyone reading it) holds.
        raw = Client(**{**env.client.config(), "data_converter": pydantic_data_converter})
        history = await raw.get_workflow_handle(slip.dossier_code).fetch_history()
        serialized = History(events=history.events).SerializeToString()
        as_json = history.to_json()
        payloads = payloads_in(History(events=history.events))
        for secret in (APPLICANT.personal_id, APPLICANT.full_name):
            assert secret.encode() not in serialized
            assert secret not in as_json and secret.encode("unicode_escape").decode() not in as_json
            assert not any(secret.encode() in p.SerializeToString() for p in payloads)

        seen = set()
        for event in history.events:
            if event.event_type in ENCRYPTED_EVENTS:
                attributes = getattr(event, event.WhichOneof("attributes"))
                carried = ENCRYPTED_EVENTS[event.event_type](attributes).payloads
                assert carried, EventType.Name(event.event_type)
                assert all(p.metadata["encryption-key-id"] == b"test-session" for p in carried)
                seen.add(event.event_type)
        assert seen == set(ENCRYPTED_EVENTS)

        # The check has teeth: decrypted, the workflow input does hold the applicant.
        started = history.events[0].workflow_execution_started_event_attributes.input.payloads
        decrypted = await env.client.data_converter.payload_codec.decode(started)
        assert PERSONAL_ID in decrypted[0].data and NAME in decrypted[0].data

        description = await handle.describe()
        assert description.typed_search_attributes  # the dossier is listed by unit, status, dates
        listed = description.raw_description.workflow_execution_info.search_attributes.SerializeToString()
        for secret in (APPLICANT.personal_id, APPLICANT.full_name):
            assert secret.encode() not in listed
            assert all(secret not in str(pair.value) for pair in description.typed_search_attributes)

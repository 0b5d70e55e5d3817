"""The codec endpoint the Web UI decrypts through: auditors only, the session's keys, the UI's CORS."""

from __future__ import annotations

import os

from google.protobuf.json_format import MessageToDict, ParseDict
from temporalio.api.common.v1 import Payloads

from api.routes.codec import SESSION_COOKIE
from officers.tokens import mint_token
from runtime.codec import EncryptionCodec
from tests.api.conftest import KEY
from tests.api.test_authorization import OFFICERS

AUDITOR, SPECIALIST = OFFICERS["auditor/other"], OFFICERS["specialist/own"]
UI = "http://127.0.0.1:8233"  # the embedded dev server's UI, allowed by default
APPLICANT = {"full_name": "Nguyễn Văn An", "personal_id": "001090123456"}


async def sealed(env, value=APPLICANT, codec=None) -> dict:
    """`value` as the worker would send it to the server: converted, then encrypted."""
    converter = env.client.data_converter
    plain = converter.payload_converter.to_payloads([value])
    return MessageToDict(Payloads(payloads=await (codec or converter.payload_codec).encode(plain)))


def values(env, body: dict) -> list:
    payloads = ParseDict(body, Payloads()).payloads
    return env.client.data_converter.payload_converter.from_payloads(payloads)


class TestCodecEndpoint:
    async def test_an_auditor_reads_what_the_server_stores_as_ciphertext(self, api):
        """/codec/decode turns the worker's ciphertext back into the applicant's data for an auditor."""
        body = await sealed(api.env)
        assert b"001090123456" not in str(body).encode()
        response = await api.http.post(
            "/codec/decode", json=body, headers={**api.auth(AUDITOR), "X-Namespace": "default"}
        )
        assert response.status_code == 200, response.text
        assert values(api.env, response.json()) == [APPLICANT]

    async def test_encode_then_decode_gives_back_the_payloads(self, api):
        """/codec/encode seals with the active key; what it returns, /codec/decode opens."""
        plain = MessageToDict(
            Payloads(payloads=api.env.client.data_converter.payload_converter.to_payloads(["x"]))
        )
        encoded = await api.http.post("/codec/encode", json=plain, headers=api.auth(AUDITOR))
        assert encoded.status_code == 200
        assert encoded.json() != plain
        decoded = await api.http.post("/codec/decode", json=encoded.json(), headers=api.auth(AUDITOR))
        assert decoded.json() == plain

    async def test_without_a_token_or_without_the_auditor_role_nothing_is_decoded(self, api):
        """No token: 401; an officer who is not an auditor: 403 WrongRole; neither gets the data."""
        body = await sealed(api.env)
        anonymous = await api.http.post("/codec/decode", json=body)
        assert anonymous.status_code == 401 and anonymous.json()["type"] == "Unauthenticated"
        specialist = await api.http.post("/codec/decode", json=body, headers=api.auth(SPECIALIST))
        assert specialist.status_code == 403 and specialist.json()["type"] == "WrongRole"
        assert "Nguyễn" not in anonymous.text + specialist.text

    async def test_a_payload_sealed_with_an_unknown_key_id_is_named_and_refused(self, api):
        """Ciphertext under a key the worker does not hold: 422 naming the key id, no data."""
        stranger = EncryptionCodec({"retired-7": os.urandom(32)}, "retired-7")
        body = await sealed(api.env, codec=stranger)
        response = await api.http.post("/codec/decode", json=body, headers=api.auth(AUDITOR))
        assert response.status_code == 422
        assert response.json()["type"] == "PayloadUndecodable"
        assert "'retired-7'" in response.json()["message"]

    async def test_another_namespace_and_a_malformed_body_are_refused(self, api):
        """X-Namespace of another namespace: 404; a body that is not Payloads JSON: 400."""
        headers = api.auth(AUDITOR)
        other = await api.http.post(
            "/codec/decode", json={"payloads": []}, headers={**headers, "X-Namespace": "prod"}
        )
        assert other.status_code == 404 and other.json()["type"] == "UnknownNamespace"
        broken = await api.http.post("/codec/decode", content=b"{not json", headers=headers)
        assert broken.status_code == 400 and broken.json()["type"] == "InvalidPayloads"


class TestBrowserSession:
    async def test_signing_in_with_an_auditor_token_lets_the_ui_decode_with_the_cookie(self, api):
        """The sign-in form sets an HttpOnly cookie for /codec and sends the browser to the Web UI."""
        form = {"token": mint_token(AUDITOR, KEY)}
        response = await api.http.post("/codec/sign-in", data=form)
        assert response.status_code == 303
        assert response.headers["location"] == f"{UI}/namespaces/default/workflows"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "Path=/codec" in cookie
        decoded = await api.http.post("/codec/decode", json=await sealed(api.env), headers={"Origin": UI})
        assert decoded.status_code == 200
        assert values(api.env, decoded.json()) == [APPLICANT]
        assert decoded.headers["access-control-allow-origin"] == UI
        assert decoded.headers["access-control-allow-credentials"] == "true"

    async def test_signing_in_as_another_role_sets_no_cookie(self, api):
        """A specialist's token is refused at sign-in: 403, no cookie."""
        response = await api.http.post("/codec/sign-in", data={"token": mint_token(SPECIALIST, KEY)})
        assert response.status_code == 403
        assert "set-cookie" not in response.headers
        assert "needs auditor" in response.text


class TestCors:
    async def test_the_ui_origin_may_call_the_codec_and_no_other_origin_may(self, api):
        """A preflight from the dev server's UI is allowed with credentials; from elsewhere it is not."""
        ask = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        }
        allowed = await api.http.options("/codec/decode", headers={**ask, "Origin": UI})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == UI
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = await api.http.options("/codec/decode", headers={**ask, "Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers

    async def test_the_rest_of_the_api_gets_no_cors(self, api):
        """Only the codec routes answer cross-origin: the dossiers' routes stay same-origin."""
        response = await api.http.get("/health", headers={"Origin": UI})
        assert "access-control-allow-origin" not in response.headers

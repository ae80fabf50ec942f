"""Feishu vectors V-FS-1 to V-FS-3 (channels.md §5.8) and the negative cases."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.feishu.crypto import decrypt, encrypt, signature, verify_signature
from connectors.feishu.parse import parse_event
from connectors.wecom.parse import Ignored, Text, Unsupported
from connectors.wxcrypt import DecryptError, SignatureError

FS1 = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="
FS3_PLAIN = '{"challenge":"ajls384kdj","token":"xxxxxx","type":"url_verification"}'
FS3 = ("AAECAwQFBgcICQoLDA0ODw9mLTIAZS9jAmGTQ1wAhHr2K2c4pSoIiYBFkqtMS3Sq3lVZ8O2KvHdU30oKQyQZ0eg"
       "L/11AOiw3h/yh+ldMESTV4CABkS3FPhJAJnPpUte1")


def test_fs1_decrypt() -> None:
    assert decrypt("test key", FS1) == "hello world"


@pytest.mark.parametrize(("key", "text"), [("other key", FS1), ("test key", "AAAA"),
                                           ("test key", "!!not base64!!")])
def test_fs1_negatives(key: str, text: str) -> None:
    with pytest.raises(DecryptError):
        decrypt(key, text)


def test_fs2_signature_over_the_raw_body() -> None:
    body = b'{"encrypt":"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}'
    expected = "69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aad"
    assert signature("1700000000", "abc123", "test key", body) == expected
    verify_signature(expected, "1700000000", "abc123", "test key", body)
    with pytest.raises(SignatureError):  # the same JSON, re-serialised with a space
        verify_signature(expected, "1700000000", "abc123", "test key",
                         b'{"encrypt": "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}')
    with pytest.raises(SignatureError):
        verify_signature(expected, "1700000001", "abc123", "test key", body)


def test_fs3_deterministic_encrypt() -> None:
    assert encrypt("test key", FS3_PLAIN, iv=bytes(range(16))) == FS3
    assert decrypt("test key", FS3) == FS3_PLAIN


def event(message: dict[str, Any], sender_type: str = "user") -> dict[str, Any]:
    return {"schema": "2.0",
            "header": {"event_id": "e1", "event_type": "im.message.receive_v1", "token": "t"},
            "event": {"sender": {"sender_id": {"open_id": "ou_1"}, "sender_type": sender_type},
                      "message": message}}


def test_group_text_strips_mentions_and_uses_the_chat() -> None:
    parsed = parse_event(event({"message_id": "om_1", "chat_id": "oc_9", "chat_type": "group",
                                "message_type": "text",
                                "content": '{"text":"@_user_1 咨询公证"}'}))
    assert isinstance(parsed, Text)
    assert parsed.message.text == "咨询公证" and parsed.message.conversation_id == "oc_9"
    assert parsed.message.message_id == "e1"
    assert parsed.message.metadata["message_id"] == "om_1"


def test_images_are_unsupported_and_bots_ignored() -> None:
    image = {"message_id": "om_1", "chat_id": "oc_9", "chat_type": "p2p",
             "message_type": "image", "content": '{"image_key":"x"}'}
    assert isinstance(parse_event(event(image)), Unsupported)
    assert isinstance(parse_event(event(image, sender_type="app")), Ignored)

"""Official Account signatures and safe-mode crypto: V-MP-1 and V-MP-2 (channels.md §3.5)."""

from __future__ import annotations

import pytest

from connectors.wechat.crypto import verify_plain
from connectors.wecom.parse import Text, parse_message
from connectors.wxcrypt import (
    ReceiveIdError,
    SignatureError,
    StaleTimestamp,
    WXBizMsgCrypt,
    decrypt,
    xml_fields,
)

MP2 = WXBizMsgCrypt("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                    "wx2c2769f8efd9abc2")
MP2_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA["
    "oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType>"
    "<![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728"
    "</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrP"
    "Xo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDW"
    "yWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrC"
    "VKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0C"
    "R8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]>"
    "</Encrypt></xml>")
MP2_PLAIN = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA["
    "oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n"
    "<MsgId>6054768590064713728</MsgId>\n</xml>")


def test_mp1_plain_signature() -> None:
    verify_plain("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685589", "test",
                 now=1410685589)


def test_mp1_wrong_signature_is_rejected() -> None:
    with pytest.raises(SignatureError):
        verify_plain("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", "1410685589", "test",
                     now=1410685589)


def test_mp1_stale_timestamp_is_rejected() -> None:
    with pytest.raises(StaleTimestamp):
        verify_plain("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685589", "test",
                     now=1410685589 + 301)


def test_mp2_safe_mode_decrypt() -> None:
    fields = xml_fields(MP2_BODY.encode())
    plain = MP2.decrypt_message("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669",
                                "1320562132", fields["Encrypt"])
    assert plain.decode() == MP2_PLAIN and len(plain) == 280
    parsed = parse_message(xml_fields(plain), "wechat")
    assert isinstance(parsed, Text)
    assert parsed.message.conversation_id == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert parsed.message.text == "abcdteT"
    assert parsed.message.message_id == "6054768590064713728"


def test_mp2_compatible_mode_plain_fields_match_the_encrypted_ones() -> None:
    fields = xml_fields(MP2_BODY.encode())
    inner = xml_fields(decrypt(MP2.key, fields["Encrypt"], MP2.receive_id))
    assert {k: v for k, v in fields.items() if k != "Encrypt"} == inner


def test_mp2_wrong_app_id() -> None:
    with pytest.raises(ReceiveIdError):
        decrypt(MP2.key, xml_fields(MP2_BODY.encode())["Encrypt"], "wx0000")


def test_mp2_wrong_msg_signature() -> None:
    with pytest.raises(SignatureError):
        MP2.decrypt_message("5d197aaffba7e9b25a30732f161a50dee96bd5fb", "1409735669",
                            "1320562132", xml_fields(MP2_BODY.encode())["Encrypt"])


def test_events_dedup_by_sender_and_create_time() -> None:
    fields = {"FromUserName": "o1", "CreateTime": "123", "MsgType": "event",
              "Event": "subscribe"}
    parsed = parse_message(fields, "wechat")
    assert isinstance(parsed, Text)
    assert parsed.message.message_id == "event:o1:123" and parsed.message.payload == "/greet"

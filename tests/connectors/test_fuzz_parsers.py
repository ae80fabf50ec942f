"""Property-based fuzzing of every connector's parsing code: whatever arrives, a parser returns
its result or raises its own documented error, never anything else (which would be a 500)."""

from __future__ import annotations

import contextlib
import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import InboundMessage
from connectors.dingtalk.parse import parse_body
from connectors.feishu import crypto as feishu_crypto
from connectors.feishu.parse import parse_event
from connectors.platform import clean_message, clean_text
from connectors.wecom.crypto import parse_envelope
from connectors.wecom.parse import Ignored, Text, Unsupported, parse_message
from connectors.wecom_kf.parse import parse_item
from connectors.wxcrypt import CryptoError, WXBizMsgCrypt, XMLError, decrypt, xml_fields

AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CRYPT = WXBizMsgCrypt("token", AES_KEY, "ww-corp")
FEISHU_KEY = "test key"

# JSON values as platforms could send them: nested objects and lists of every scalar type.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=25)
# Keys the parsers look at, so the fuzzer reaches past the first `if`.
any_text = st.text(max_size=60)


def _valid(parsed: Text | Unsupported | Ignored) -> None:
    assert isinstance(parsed, Text | Unsupported | Ignored)
    if isinstance(parsed, Text):
        message = parsed.message
        assert isinstance(message, InboundMessage)
        assert message.conversation_id and message.sender_id and message.message_id
        assert message.payload is not None or (message.text or "").strip()


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_xml_fields_of_any_bytes_is_a_dict_or_an_xml_error(data: bytes) -> None:
    try:
        fields = xml_fields(data)
    except XMLError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["ToUserName", "FromUserName", "Content", "MsgType",
                                        "MsgId", "Event", "EventKey", "x"]), any_text),
       st.text(max_size=200))
def test_xml_fields_of_generated_documents(fields: dict[str, str], tail: str) -> None:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    try:
        parsed = xml_fields(f"<xml>{body}{tail}</xml>".encode("utf-8", "surrogatepass"))
    except XMLError:
        return
    _valid(parse_message(parsed, "wecom"))


@pytest.mark.parametrize("document", [
    # billion laughs: entity expansion
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<xml><Content>&c;</Content></xml>",
    # external entity (file read)
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&x;</Content></xml>",
    b"<xml><Content>\xff\xfe</Content></xml>",  # invalid UTF-8
    b"<xml>" * 5000,  # unclosed, deep
    b"",
    b"<notxml/>",
    b"x" * (64 * 1024 + 1),
])
def test_hostile_xml_is_refused(document: bytes) -> None:
    with pytest.raises(XMLError):
        xml_fields(document)


def test_an_external_dtd_is_never_fetched() -> None:
    # expat does not load external DTDs; the document parses as if it had none.
    doc = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml><A>1</A></xml>'
    assert xml_fields(doc) == {"A": "1"}


@given(st.binary(max_size=500))
def test_a_wecom_envelope_of_any_bytes(data: bytes) -> None:
    try:
        envelope = parse_envelope(data)
    except XMLError:
        return
    assert envelope.encrypt


@given(st.dictionaries(st.sampled_from(["FromUserName", "MsgType", "Content", "MsgId", "Event",
                                        "EventKey", "CreateTime"]), any_text))
def test_wechat_family_messages(fields: dict[str, str]) -> None:
    _valid(parse_message(fields, "wechat"))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_wxbizmsgcrypt_decrypts_any_text_or_raises_a_crypto_error(encrypted: str) -> None:
    with contextlib.suppress(CryptoError):
        decrypt(CRYPT.key, encrypted, "ww-corp")


@given(st.text(max_size=500))
def test_wxbizmsgcrypt_round_trips_any_text(text: str) -> None:
    plain = text.encode("utf-8", "surrogatepass")
    assert decrypt(CRYPT.key, CRYPT.encrypt_text(plain.decode("utf-8", "surrogatepass")),
                   "ww-corp") == plain


def _kf_items() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {}, optional={"origin": st.sampled_from([3, 4, 5, "3", None]),
                      "open_kfid": any_text, "external_userid": any_text, "msgid": any_text,
                      "msgtype": st.sampled_from(["text", "image", "event", "", "x"]),
                      "text": json_values | st.fixed_dictionaries({"content": json_values})})


@settings(max_examples=300)
@given(_kf_items() | st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_wecom_kf_items(item: dict[str, Any]) -> None:
    _valid(parse_item(item))


def _dingtalk_bodies() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {}, optional={"msgId": json_values, "senderStaffId": json_values,
                      "senderId": json_values, "conversationType": json_values,
                      "conversationId": json_values,
                      "msgtype": st.sampled_from(["text", "picture", "richText", ""]),
                      "text": json_values | st.fixed_dictionaries({"content": json_values})})


@settings(max_examples=300)
@given(_dingtalk_bodies() | st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_dingtalk_bodies(body: dict[str, Any]) -> None:
    _valid(parse_body(body))


def _feishu_events() -> st.SearchStrategy[dict[str, Any]]:
    content = st.one_of(st.text(max_size=80),
                        json_values.map(lambda v: json.dumps(v)),
                        st.fixed_dictionaries({"text": json_values}).map(json.dumps))
    message = st.fixed_dictionaries(
        {}, optional={"message_id": json_values, "chat_id": json_values,
                      "chat_type": st.sampled_from(["p2p", "group", ""]),
                      "message_type": st.sampled_from(["text", "image", "post", ""]),
                      "content": content | json_values})
    sender = st.fixed_dictionaries(
        {}, optional={"sender_type": st.sampled_from(["user", "app", ""]),
                      "sender_id": json_values | st.fixed_dictionaries({"open_id": json_values})})
    return st.fixed_dictionaries(
        {}, optional={"header": st.fixed_dictionaries(
            {}, optional={"event_type": st.sampled_from(["im.message.receive_v1", "x"]),
                          "event_id": json_values}) | json_values,
            "event": st.fixed_dictionaries({}, optional={"message": message | json_values,
                                                          "sender": sender | json_values})
            | json_values})


@settings(max_examples=400)
@given(_feishu_events())
def test_feishu_events(event: dict[str, Any]) -> None:
    _valid(parse_event(event))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_feishu_decrypts_any_text_or_raises_a_decrypt_error(encrypted: str) -> None:
    with contextlib.suppress(CryptoError):
        feishu_crypto.decrypt(FEISHU_KEY, encrypted)


@settings(max_examples=500)
@given(st.text())
def test_clean_text_leaves_printable_storable_text(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # no lone surrogates: every database can store it
    assert "\x00" not in cleaned and "\r" not in cleaned
    assert all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in cleaned)
    assert clean_text(cleaned) == cleaned


def test_clean_text_keeps_what_people_write() -> None:
    for text in ("我想申请法律援助😀", "第一行\n第二行", "'; DROP TABLE message_log; --",
                 "<script>alert(1)</script>", "ＡＢＣ　全角"):
        assert clean_text(text) == text
    assert clean_text("  a\r\nb\x00c\x1b[31m\ud800 ") == "a\nbc[31m"
    message = InboundMessage(channel="wecom", conversation_id="u", sender_id="u",
                             message_id="m", text="你好\x00", payload=None)
    assert clean_message(message).text == "你好"

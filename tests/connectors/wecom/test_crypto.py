"""WeCom callback crypto against the official vectors (channels.md §1.6) and the negative cases."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.wecom.crypto import parse_envelope
from connectors.wxcrypt import (
    DecryptError,
    ReceiveIdError,
    SignatureError,
    StaleTimestamp,
    WXBizMsgCrypt,
    aes_key,
    check_timestamp,
    decrypt,
    encrypt,
    sha1_signature,
)

# V-WC-1 (OFFICIAL, Tencent sample)
WC1 = WXBizMsgCrypt("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                    "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee")
WC1_ECHOSTR = ("fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6"
               "SVHyA==")
WC1_BODY = (
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzB"
    "hzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWc"
    "oD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7"
    "wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDG"
    "OCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>")
WC1_PLAIN = ("<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun"
             "</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>"
             "你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>")

# V-WC-2 (OFFICIAL, WeCom doc 90968)
WC2 = WXBizMsgCrypt("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
WC2_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj"
    "911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06"
    "DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQ"
    "H03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo"
    "6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+q"
    "N+E7Q==")
WC2_PLAIN = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]>"
    "</FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>"
    "\n</xml>")

# V-WC-3 (OFFICIAL, wechatpy test suite)
WC3 = WXBizMsgCrypt("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
WC3_ECHOSTR = ("4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchL"
               "F6p+Q==")
WC3_REPLY = ("<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
             "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
             "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
             "<CreateTime>1411525903</CreateTime>\n</xml>")
WC3_EXPECTED = (
    "<xml>\n<Encrypt><![CDATA[9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba"
    "4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCC"
    "mVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb"
    "7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3]]></Encrypt>\n"
    "<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>\n"
    "<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>")
WC3_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTy"
    "eDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyo"
    "lBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOM"
    "ZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mls"
    "l5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=")
WC3_PLAIN = (
    "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<FromUserName><![CDATA[messense]]>"
    "</FromUserName>\n<CreateTime>1411525903</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[test]]></Content>\n<MsgId>4363689963896700987</MsgId>\n<AgentID>1</AgentID>"
    "\n</xml>")

# V-WC-4 (SELF)
WC4_ENCRYPT = (
    "/K4xJYsBwQssQzE/v2nbvIeXv4RSPpm4QbLqQSJqdvTVzKdF5zyFpDqi7SqZlsgsfUlux8Dk7Jys7Ury6tmjaV7Ak7EN8Fj"
    "ekv0jUn4RYgN674vkPCc7yKF6FR0b4Vk+qgr+pFzWinL/dQMypCC7C1Q5hPHR2YpGczDGP23egDaV+a9l+1F0nloF2FdIG"
    "DCDJkW6PA6Ru++xQfQf3QP3ZbMEe7qI2G0aSSFw5CQUZm9tUd7mInaxLLkgko8Aw08RmSWw97bU3XhkVtzZOIZsmTxTmNF"
    "paRAESl2hTWtrz5av2a7kQfSt/hZos75FjcWUE/7jB7ApcbsBQxCrUds0wSLuTl4PGBMpdFQn1gVCerDw+rJhy7tZikFty"
    "LimEaCc")


def test_wc1_verify_url() -> None:
    assert WC1.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                          WC1_ECHOSTR) == "1288432023552776189"


def test_wc1_decrypt_message() -> None:
    envelope = parse_envelope(WC1_BODY.encode())
    assert envelope.to_user == "ww1436e0e65a779aee" and envelope.agent_id == "1000002"
    plain = WC1.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779",
                                "1597212914", envelope.encrypt)
    assert plain.decode("utf-8") == WC1_PLAIN
    assert len(plain) == 228


def test_wc2_verify_url_and_decrypt() -> None:
    echostr = ("P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXv"
               "naqQ==")
    assert WC2.verify_url("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
                          echostr) == "1616140317555161061"
    plain = WC2.decrypt_message("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813",
                                "1372623149", WC2_ENCRYPT)
    assert plain.decode("utf-8") == WC2_PLAIN


def test_wc3_check_signature_and_its_negative() -> None:
    assert WC3.verify_url("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425",
                          WC3_ECHOSTR) == "5927782489442352469"
    with pytest.raises(SignatureError):
        WC3.verify_url("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374424",
                       WC3_ECHOSTR)


def test_wc3_deterministic_encrypt() -> None:
    assert WC3.encrypt_message(WC3_REPLY, "461056294", "1411525903",
                               random16=b"1234567890123456") == WC3_EXPECTED


def test_wc3_decrypt_with_pad_1() -> None:
    plain = WC3.decrypt_message("74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "1411525903",
                                "461056294", WC3_ENCRYPT)
    assert plain.decode("utf-8") == WC3_PLAIN and len(plain) == 281


def test_wc4_deterministic_utf8_encrypt() -> None:
    encrypted = WC1.encrypt_text(WC1_PLAIN, random16=b"1234567890123456")
    assert encrypted == WC4_ENCRYPT
    assert WC1.signature("1476422779", "1597212914", encrypted) == (
        "fabff8670719a0b942ff09f39446ce54456d412b")


def test_plus_mangled_to_space_in_echostr_is_repaired() -> None:
    assert WC1.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                          WC1_ECHOSTR.replace("+", " ")) == "1288432023552776189"


def test_wrong_token_is_a_signature_error() -> None:
    wrong = WXBizMsgCrypt("wrong-token", WC1.encoding_aes_key, WC1.receive_id)
    with pytest.raises(SignatureError):
        wrong.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                         WC1_ECHOSTR)


def test_wrong_signature_is_rejected() -> None:
    with pytest.raises(SignatureError):
        WC1.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48f", "1476422779",
                            "1597212914", parse_envelope(WC1_BODY.encode()).encrypt)


def test_wrong_receive_id() -> None:
    with pytest.raises(ReceiveIdError):
        decrypt(WC1.key, parse_envelope(WC1_BODY.encode()).encrypt, "ww0000")


@pytest.mark.parametrize("tampered", [
    "AAAA",  # too short for one AES block
    "not base64 !!",
    "",
    WC4_ENCRYPT[:-8],  # truncated: not a whole number of blocks
])
def test_tampered_ciphertext_is_a_decrypt_error(tampered: str) -> None:
    with pytest.raises(DecryptError):
        decrypt(WC1.key, tampered, WC1.receive_id)


def raw_encrypt(plain: bytes) -> str:
    """AES-CBC with the V-WC-1 key and no padding of ours: the caller frames the plaintext."""
    enc = Cipher(algorithms.AES(WC1.key), modes.CBC(WC1.key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


FRAME = b"0123456789abcdef" + b"\x00\x00\x00\x02hi" + WC1.receive_id.encode()  # 40 bytes


def test_a_pad_value_of_zero_is_rejected() -> None:
    with pytest.raises(DecryptError):
        decrypt(WC1.key, raw_encrypt(FRAME + b"\x00" * 24), WC1.receive_id)


def test_unequal_pad_bytes_are_rejected() -> None:
    with pytest.raises(DecryptError):
        decrypt(WC1.key, raw_encrypt(FRAME + b"\x01" * 23 + b"\x18"), WC1.receive_id)


def test_a_pad_value_over_32_is_rejected() -> None:
    with pytest.raises(DecryptError):
        decrypt(WC1.key, raw_encrypt(FRAME + b"\x21" * 24), WC1.receive_id)


def test_a_length_field_that_overruns_the_buffer_is_rejected() -> None:
    frame = b"0123456789abcdef" + b"\x00\x00\x10\x00hi" + WC1.receive_id.encode()
    with pytest.raises(DecryptError):
        decrypt(WC1.key, raw_encrypt(frame + b"\x18" * 24), None)


def test_the_framing_helpers_agree_with_the_strict_checks() -> None:
    assert decrypt(WC1.key, raw_encrypt(FRAME + b"\x18" * 24), WC1.receive_id) == b"hi"


def test_16_byte_block_padding_is_accepted() -> None:
    # The DingTalk Go sample pads to 16 bytes: decryption must tolerate it.
    assert decrypt(WC1.key, raw_encrypt(FRAME + b"\x08" * 8), WC1.receive_id) == b"hi"


def test_round_trip_counts_utf8_bytes() -> None:
    text = "法律援助" * 50
    assert decrypt(WC1.key, encrypt(WC1.key, text.encode(), "corp"), "corp").decode() == text


def test_signature_is_sorted_sha1() -> None:
    assert sha1_signature("b", "a") == sha1_signature("a", "b")


def test_aes_key_must_be_43_chars() -> None:
    with pytest.raises(ValueError):
        aes_key("short")


def test_replay_window() -> None:
    check_timestamp("1000", window=300, now=1200)
    with pytest.raises(StaleTimestamp):
        check_timestamp("1000", window=300, now=1301)
    with pytest.raises(StaleTimestamp):
        check_timestamp("1000", window=300, now=699)
    with pytest.raises(StaleTimestamp):
        check_timestamp("abc", window=300, now=1000)
    check_timestamp("1000000", window=1, now=1000, millis=True)

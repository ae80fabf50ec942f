"""The "WXBizMsgCrypt" framing shared by WeCom, WeChat Customer Service, the WeChat Official
Account (safe mode) and DingTalk event callbacks (`../shared/domain/channels.md`, section 0).

Pure functions, no I/O:

* key = base64decode(EncodingAESKey + "="), 32 bytes; IV = key[:16];
* plaintext = random(16) ‖ uint32_be(len(msg)) ‖ msg ‖ receive_id, PKCS#7 padded to 32 bytes;
* AES-256-CBC, then standard base64;
* signature = sha1("".join(sorted([token, timestamp, nonce, encrypt]))).hexdigest().

Unlike the vendors' samples, decryption here is strict: the pad value must be 1..32 and every pad
byte equal, the length field must fit the buffer, and the receive id must match. Signatures are
compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

BLOCK_SIZE = 32  # the PKCS#7 block size of this scheme (not AES's 16)
RANDOM_PREFIX_BYTES = 16


class CryptoError(Exception):
    """A callback failed verification or decryption."""


class SignatureError(CryptoError):
    """The signature does not match (forged request or wrong token)."""


class StaleTimestamp(CryptoError):
    """The timestamp is outside the replay window (or not a number)."""


class DecryptError(CryptoError):
    """The ciphertext is malformed: bad base64, length, padding or length field."""


class ReceiveIdError(CryptoError):
    """The message was encrypted for another receiver (CorpID / AppID / appKey)."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from a 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not valid base64") from exc
    if len(key) != 32:  # pragma: no cover - 43 base64 chars + "=" always give 32 bytes
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def sha1_signature(*parts: str) -> str:
    """sha1 over the lexicographically sorted parts, concatenated; lowercase hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def verify_signature(expected: str, *parts: str) -> None:
    """Raise SignatureError unless `expected` is the signature of `parts` (constant time)."""
    actual = sha1_signature(*parts)
    if not hmac.compare_digest(actual.encode("ascii"), expected.strip().lower().encode("utf-8")):
        raise SignatureError("signature mismatch")


def check_timestamp(timestamp: str, *, window: float, now: float | None = None,
                    millis: bool = False) -> None:
    """Raise StaleTimestamp unless `timestamp` is within `window` seconds of `now`."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise StaleTimestamp("timestamp is not an integer") from None
    seconds = value / 1000 if millis else float(value)
    current = time.time() if now is None else now
    if abs(current - seconds) > window:
        raise StaleTimestamp("timestamp outside the replay window")


def pkcs7_pad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    pad = block_size - len(data) % block_size
    return data + bytes([pad]) * pad


def pkcs7_unpad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """Strict unpad: pad value 1..block_size, all pad bytes equal."""
    if not data:
        raise DecryptError("empty plaintext")
    pad = data[-1]
    if not 1 <= pad <= block_size or pad > len(data):
        raise DecryptError("bad padding")
    if data[-pad:] != bytes([pad]) * pad:
        raise DecryptError("bad padding")
    return data[:-pad]


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(key: bytes, message: bytes, receive_id: str, random16: bytes | None = None) -> str:
    """Encrypt `message` for `receive_id`; `random16` fixes the prefix (tests only)."""
    prefix = os.urandom(RANDOM_PREFIX_BYTES) if random16 is None else random16
    if len(prefix) != RANDOM_PREFIX_BYTES:
        raise ValueError("random prefix must be 16 bytes")
    plain = pkcs7_pad(prefix + struct.pack(">I", len(message)) + message
                      + receive_id.encode("utf-8"))
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt(key: bytes, encrypted: str, receive_id: str | None) -> bytes:
    """The message inside `encrypted`; checks the receive id unless it is None."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("ciphertext is not valid base64") from exc
    if not raw or len(raw) % 16:
        raise DecryptError("ciphertext length is not a multiple of the AES block")
    decryptor = _cipher(key).decryptor()
    plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
    if len(plain) < RANDOM_PREFIX_BYTES + 4:
        raise DecryptError("plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise DecryptError("length field overruns the plaintext")
    message, found_id = plain[20:20 + length], plain[20 + length:]
    if receive_id is not None and not hmac.compare_digest(found_id,
                                                          receive_id.encode("utf-8")):
        raise ReceiveIdError("receive id mismatch")
    return message


REPLY_TEMPLATE = (
    "<xml>\n"
    "<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
    "<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
    "<TimeStamp>{timestamp}</TimeStamp>\n"
    "<Nonce><![CDATA[{nonce}]]></Nonce>\n"
    "</xml>"
)


@dataclass(frozen=True)
class WXBizMsgCrypt:
    """Token, EncodingAESKey and receive id of one callback configuration."""

    token: str
    encoding_aes_key: str
    receive_id: str
    # Decoded once, here: a malformed EncodingAESKey fails at start-up, not on the first webhook.
    key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", aes_key(self.encoding_aes_key))

    def signature(self, timestamp: str, nonce: str, encrypt_text: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypt_text)

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """WeCom URL verification: the plaintext echostr to answer with."""
        echostr = echostr.replace(" ", "+")  # a query '+' may arrive as a space; base64 has none
        verify_signature(msg_signature, self.token, timestamp, nonce, echostr)
        return decrypt(self.key, echostr, self.receive_id).decode("utf-8")

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str,
                        encrypt_text: str) -> bytes:
        """Verify the signature over `encrypt_text`, then decrypt it."""
        verify_signature(msg_signature, self.token, timestamp, nonce, encrypt_text)
        return decrypt(self.key, encrypt_text, self.receive_id)

    def encrypt_text(self, message: str, random16: bytes | None = None) -> str:
        return encrypt(self.key, message.encode("utf-8"), self.receive_id, random16)

    def encrypt_message(self, reply_xml: str, nonce: str, timestamp: str,
                        random16: bytes | None = None) -> str:
        """The encrypted passive-reply envelope (the template of the Tencent sample)."""
        encrypted = self.encrypt_text(reply_xml, random16)
        return REPLY_TEMPLATE.format(encrypt=encrypted,
                                     signature=self.signature(timestamp, nonce, encrypted),
                                     timestamp=timestamp, nonce=nonce)


class XMLError(ValueError):
    """The body is not the XML the platform sends."""


MAX_XML_BYTES = 64 * 1024


def xml_fields(data: bytes) -> dict[str, str]:
    """The direct children of a WeChat-family `<xml>` document, tag → text (hardened parser)."""
    if not data.strip():
        raise XMLError("empty body")
    if len(data) > MAX_XML_BYTES:
        raise XMLError("body too large")
    try:
        root = DefusedET.fromstring(data)
    except (DefusedXmlException, ParseError) as exc:
        raise XMLError(f"malformed or unsafe XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise XMLError("root element is not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}

"""Feishu (飞书) event crypto (channels.md §5.4, §5.5). Pure functions, no I/O.

* decrypt: key = SHA256(encrypt_key), raw = base64(encrypt), IV = raw[:16], AES-256-CBC,
  PKCS#7 with a 16-byte block; the plaintext is the event JSON.
* signature: sha256((timestamp + nonce + encrypt_key).encode() + raw_body).hexdigest(), over
  the raw body bytes, never re-serialised JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.wxcrypt import DecryptError, SignatureError, pkcs7_pad, pkcs7_unpad

# Feishu documents no window; 5 minutes (plus event_id dedup) is our policy, channels.md §5.5.
REPLAY_WINDOW_SECONDS = 300
AES_BLOCK = 16


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


def decrypt(encrypt_key: str, encrypted: str) -> str:
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("encrypt is not valid base64") from exc
    if len(raw) < 2 * AES_BLOCK or len(raw) % AES_BLOCK:
        raise DecryptError("encrypt has a bad length")
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(raw[:16])).decryptor()
    plain = pkcs7_unpad(decryptor.update(raw[16:]) + decryptor.finalize(), AES_BLOCK)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecryptError("plaintext is not UTF-8") from exc


def encrypt(encrypt_key: str, plaintext: str, iv: bytes | None = None) -> str:
    """The inverse of `decrypt` (what Feishu does; used by tests and the fake platform)."""
    iv = os.urandom(AES_BLOCK) if iv is None else iv
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    data = encryptor.update(pkcs7_pad(plaintext.encode("utf-8"), AES_BLOCK))
    return base64.b64encode(iv + data + encryptor.finalize()).decode("ascii")


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


def verify_signature(expected: str, timestamp: str, nonce: str, encrypt_key: str,
                     body: bytes) -> None:
    actual = signature(timestamp, nonce, encrypt_key, body)
    if not hmac.compare_digest(actual.encode("ascii"), expected.strip().lower().encode("utf-8")):
        raise SignatureError("X-Lark-Signature mismatch")

"""DingTalk vectors V-DT-1 to V-DT-5 (channels.md §4.4) and the negative cases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connectors.dingtalk.crypto import DingCallbackCrypto, robot_sign, verify_robot_request
from connectors.wxcrypt import DecryptError, ReceiveIdError, SignatureError, StaleTimestamp

DT1 = DingCallbackCrypto("123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
                         "suite4xxxxxxxxxxxxxxx")
DT1_ENCRYPT = (
    "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUB"
    "mfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSB"
    "dHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==")


def test_dt1_suite_url_check() -> None:
    body = json.loads(json.dumps({"encrypt": DT1_ENCRYPT}))
    plain = DT1.decrypt("5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0", "1445827045067", "nEXhMP4r",
                        body["encrypt"])
    assert plain == ('{"EventType":"check_create_suite_url","Random":"LPIdSnlF",'
                     '"TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}')
    assert len(plain.encode()) == 97


def test_dt2_check_url() -> None:
    crypto = DingCallbackCrypto("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
                                "ding6ccabc44d2c8d38b")
    encrypt = ("0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPv"
               "NvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3")
    assert crypto.decrypt("03044561471240d4a14bb09372dfcfd4fd0e40cb", "1608001896814",
                          "WL4PK6yA", encrypt) == '{"EventType":"check_url"}'


def test_dt3_go_sample_success() -> None:
    crypto = DingCallbackCrypto("tokenxxxx", "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus",
                                "dingxxxxxx")
    encrypt = ("X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9"
               "TRaqsQ==")
    assert crypto.decrypt("f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc", "1605695694141",
                          "WelUQl6bCqcBa2fM", encrypt) == "success"


def test_dt4_encrypted_success_response() -> None:
    answer = DT1.encrypted_success("1445827045067", "nEXhMP4r", random16=b"1234567890123456")
    assert answer == {
        "msg_signature": "73813ea128535f7945c17f81069c6b8045361375",
        "timeStamp": "1445827045067", "nonce": "nEXhMP4r",
        "encrypt": ("5DJFWzjRNOQk+5GSZxW+VpU/+Yf0KeplvXZ8LNdyQj5iN6tX2KSwwhy5oymzMpsFAiG4RS3L0/v"
                    "Y7TX4ZwLTFA==")}


def test_dt5_robot_sign() -> None:
    assert robot_sign("1700000000000", "SECtestsecret") == (
        "7LVwF0dAF3/+MRRulbpE4y72Ogzykc6bS2nG4I99T4s=")
    verify_robot_request("1700000000000", "7LVwF0dAF3/+MRRulbpE4y72Ogzykc6bS2nG4I99T4s=",
                         "SECtestsecret", now=1700000000.0 + 3599)


def test_hmac_plumbing_against_the_login_free_vector() -> None:
    # A different DingTalk signature (HMAC of the timestamp alone), official: proves the plumbing.
    digest = hmac.new(b"testappSecret", b"1546084445901", hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == "HCbG3xNE3vzhO+u7qCUL1jS5hsu2n5r2cFhnTrtyDAE="


def test_robot_sign_negatives() -> None:
    good = "7LVwF0dAF3/+MRRulbpE4y72Ogzykc6bS2nG4I99T4s="
    with pytest.raises(SignatureError):
        verify_robot_request("1700000000000", good, "SECother", now=1700000000.0)
    with pytest.raises(SignatureError):
        verify_robot_request("1700000000001", good, "SECtestsecret", now=1700000000.0)
    with pytest.raises(StaleTimestamp):
        verify_robot_request("1700000000000", good, "SECtestsecret", now=1700000000.0 + 3601)


def test_event_crypto_negatives() -> None:
    with pytest.raises(SignatureError):
        DT1.decrypt("5a65ceeef9aab2d149439f82dc191dd6c5cbe2c1", "1445827045067", "nEXhMP4r",
                    DT1_ENCRYPT)
    wrong_owner = DingCallbackCrypto(DT1.token, DT1.aes_key, "suite0000")
    with pytest.raises(ReceiveIdError):
        wrong_owner.decrypt("5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0", "1445827045067",
                            "nEXhMP4r", DT1_ENCRYPT)
    other_key = DingCallbackCrypto(DT1.token, "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus",
                                   DT1.owner_key)
    with pytest.raises((DecryptError, ReceiveIdError)):
        other_key.decrypt("5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0", "1445827045067",
                          "nEXhMP4r", DT1_ENCRYPT)

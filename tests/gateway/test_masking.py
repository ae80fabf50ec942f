from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from gateway.masking import (
    ID_MASK,
    NAME_MASK,
    PHONE_MASK,
    MaskingFilter,
    forget_reported_names,
    install_record_factory,
    mask,
    report_names,
)


@pytest.fixture(autouse=True)
def _no_reported_names() -> Iterator[None]:
    forget_reported_names()
    yield
    forget_reported_names()


@pytest.mark.parametrize("text", [
    "13812345678",
    "电话13812345678谢谢",
    "我的手机是 138 1234 5678",
    "call 138-1234-5678 please",
    "+8613912345678",
    "+86 139-1234-5678",
    "008619912345678",
    "tel:15012345678,",
])
def test_mobile_numbers_are_masked(text: str) -> None:
    masked = mask(text)
    assert PHONE_MASK in masked
    digits = "".join(c for c in masked if c.isdigit())
    assert "1234" not in digits  # nothing of the subscriber part is left


@pytest.mark.parametrize("text", [
    "身份证号320402199001011234",
    "ID 32040219900101123X.",
    "号码是32040219900101123x，",
    "11010519491231002X",
    "320402199013451234",  # an impossible birth date is still somebody's number
])
def test_id_numbers_are_masked(text: str) -> None:
    masked = mask(text)
    assert ID_MASK in masked
    assert "0101" not in masked and "1949" not in masked and "9013" not in masked


@pytest.mark.parametrize(("text", "name"), [
    ("我叫张三", "张三"),
    ("你好，我叫王小明，想咨询工资的事", "王小明"),
    ("姓名：李四", "李四"),
    ("姓名: 欧阳娜娜", "欧阳娜娜"),
    ("本人赵六，男", "赵六"),
    ("我的名字叫陈静", "陈静"),
    ("我是刘洋，在武进区上班", "刘洋"),
    ("申请人：买买提·艾力", "买买提·艾力"),
])
def test_names_in_self_introductions_are_masked(text: str, name: str) -> None:
    masked = mask(text)
    assert name not in masked
    assert NAME_MASK in masked


def test_reported_names_are_masked_anywhere() -> None:
    assert "王建国" in mask("王建国的工资被拖欠了")
    report_names("王建国", "", "x")  # empty and one-character names are ignored
    assert mask("王建国的工资被拖欠了") == f"{NAME_MASK}的工资被拖欠了"
    assert mask("x") == "x"


def test_ordinary_text_and_ids_are_kept() -> None:
    for text in ("我想申请法律援助", "公司拖欠我三个月工资", "预约码 YY-AB12CD34",
                 "turn channel=web conversation=12 replies=2 ms=35.1", "一年五万，家里四口人",
                 "order 20261129123045", "3500元/月"):
        assert mask(text) == text
    assert mask("") == ""


def test_a_longer_digit_run_is_not_a_phone_number() -> None:
    assert mask("message id 9913812345678123") == "message id 9913812345678123"


def _logger_with_filter() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(who)s"))
    logger = logging.getLogger("tests.masking.parent")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_the_filter_masks_message_arguments_and_extra_fields() -> None:
    _logger, stream = _logger_with_filter()
    # A child logger: the filter sits on the handler, so propagated records are masked too.
    child = logging.getLogger("tests.masking.parent.child")
    child.info("text=%s id=%s", "我叫张三，电话13812345678", "320402199001011234",
               extra={"who": "姓名：李四"})
    out = stream.getvalue()
    for secret in ("张三", "13812345678", "320402199001011234", "李四"):
        assert secret not in out
    assert out.count(PHONE_MASK) == 1 and ID_MASK in out and out.count(NAME_MASK) == 2


def test_the_filter_masks_exceptions() -> None:
    logger, stream = _logger_with_filter()
    try:
        raise ValueError("bad phone 13812345678")
    except ValueError:
        logger.exception("failed for %s", "13912345678", extra={"who": "-"})
    out = stream.getvalue()
    assert "13812345678" not in out and "13912345678" not in out
    assert f"failed for {PHONE_MASK}" in out and f"ValueError: bad phone {PHONE_MASK}" in out


def test_the_filter_survives_a_broken_format_string() -> None:
    logger, stream = _logger_with_filter()
    logger.info("%d items for %s", "13812345678", extra={"who": "-"})
    assert "13812345678" not in stream.getvalue()


def test_the_record_factory_masks_records_whatever_handler_writes_them(
        caplog: pytest.LogCaptureFixture) -> None:
    previous = logging.getLogRecordFactory()
    try:
        install_record_factory()
        install_record_factory()  # once is enough
        factory = logging.getLogRecordFactory()
        assert getattr(factory, "masks_personal_data", False)
        with caplog.at_level(logging.INFO, logger="tests.masking.rasa"):
            logging.getLogger("tests.masking.rasa").info("user said %s", "我叫张三 13812345678")
        assert caplog.records[-1].getMessage() == f"user said 我叫{NAME_MASK} {PHONE_MASK}"
    finally:
        logging.setLogRecordFactory(previous)


def test_json_escaped_text_is_decoded_and_masked() -> None:
    # Rasa logs JSON with ASCII escapes: "我叫欧阳子萱，身份证号3204...X"
    logged = ('{"text": "\\u6211\\u53eb\\u6b27\\u9633\\u5b50\\u8431\\uff0c\\u8eab\\u4efd'
              '\\u8bc1\\u53f732040219880716423X", "emoji": "\\ud83d\\ude00"}')
    masked = mask(logged)
    assert masked == ('{"text": "我叫<name>，身份证号<id-number>", '
                      '"emoji": "\\ud83d\\ude00"}')

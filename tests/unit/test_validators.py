"""What citizens type into forms: accepted values are normalised, others explained."""

from datetime import date

import pytest

from actions.validators import (
    Invalid,
    Valid,
    validate_credit_code,
    validate_graduation_year,
    validate_id_number,
    validate_person_name,
    validate_phone,
    validate_sms_code,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("330106199503140023", "330106199503140023"),
        ("45010219920605004x", "45010219920605004X"),
        ("330106 1995 0314 0023", "330106199503140023"),
        ("身份证号是３３０１０６１９９５０３１４００２３", "330106199503140023"),
    ],
)
def test_valid_id_numbers_are_normalised(text: str, value: str) -> None:
    assert validate_id_number(text) == Valid(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("330106199503140024", "校验未通过"),
        ("3301061995031400", "您输入的是16位"),
        ("330106199513400023", "出生日期不正确"),
        ("330106209903140023", "出生日期不正确"),
    ],
)
def test_invalid_id_numbers_say_why(text: str, reason: str) -> None:
    result = validate_id_number(text, today=date(2026, 11, 26))
    assert isinstance(result, Invalid) and reason in result.reason


def test_phone_numbers() -> None:
    assert validate_phone("+86 138-0000-0001") == Valid("13800000001")
    assert validate_phone("手机13800000002") == Valid("13800000002")
    assert "10位" in validate_phone("1380000000").reason
    assert "13至19开头" in validate_phone("12800000001").reason


def test_sms_codes_and_names() -> None:
    assert validate_sms_code("验证码 482913") == Valid("482913")
    assert isinstance(validate_sms_code("12345"), Invalid)
    assert validate_person_name("我叫陈晓") == Valid("陈晓")
    assert validate_person_name("买买提·艾力") == Valid("买买提·艾力")
    assert "数字" in validate_person_name("陈晓1").reason


def test_graduation_year_and_credit_code() -> None:
    assert validate_graduation_year("26届", today=date(2026, 11, 26)) == Valid("2026")
    assert isinstance(validate_graduation_year("1990", today=date(2026, 11, 26)), Invalid)
    assert validate_credit_code("91330106MA2H3K5P13") == Valid("91330106MA2H3K5P13")
    assert "校验未通过" in validate_credit_code("91330106MA2H3K5P14").reason
